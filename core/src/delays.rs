//! `δ_j`, `D_i` and predicted winners (`stagger delays`).
