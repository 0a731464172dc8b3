//! A ranking and the delays it implies.
//!
//! The delay matrix is kept in server order (the order of the scenario's
//! `servers` list); a ranking maps each index to a server row, so a re-rank
//! never rewrites the matrix (SPEC §1). From the two, this module derives the
//! adjusted waiting times `δ_j` of [0047].

use crate::message::{Index, Target};
use crate::time::Span;

/// One version of the ranking with its derived `δ` table. Shared (behind an
/// `Arc`) by every server of a run, so a 1,000-server group stores it once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RankTable {
    /// Bumped by every re-rank; stamped on every message.
    pub version: u32,
    /// `rows[i]` is the server row that holds index `i`.
    rows: Vec<u32>,
    /// `index_of[row]` inverts `rows`.
    index_of: Vec<Index>,
    /// `δ_j` by index, guard included; `δ_0 = 0`.
    delta: Vec<Span>,
    /// `prefix[i] = Σ_{j<i} δ_j`, so `D_i` under the integral scheme is one
    /// lookup when no server is skipped.
    prefix: Vec<Span>,
}

impl RankTable {
    /// Builds the table. `delays_us[j][k]` is the one-way delay from row `j`
    /// to row `k`; `rows` lists the server row of each index.
    ///
    /// `δ_j = max{ C[j][k] : j < k ≤ N }` over *indices* ([0047]), with
    /// `δ_0 = 0` ([0046]) and `guard` added for `1 ≤ j ≤ N−1` (SPEC §5).
    pub fn new(version: u32, rows: Vec<u32>, delays_us: &[Vec<u64>], guard: Span) -> RankTable {
        let n = rows.len();
        let mut index_of = vec![0; n];
        for (i, &row) in rows.iter().enumerate() {
            index_of[row as usize] = i as Index;
        }
        let mut delta = vec![Span::ZERO; n];
        for j in 1..n {
            let from = rows[j] as usize;
            let worst = ((j + 1)..n).map(|k| delays_us[from][rows[k] as usize]).max().unwrap_or(0);
            let guard = if j + 1 < n { guard } else { Span::ZERO };
            delta[j] = Span(worst) + guard;
        }
        let mut prefix = Vec::with_capacity(n);
        let mut acc = Span::ZERO;
        for d in &delta {
            prefix.push(acc);
            acc += *d;
        }
        RankTable { version, rows, index_of, delta, prefix }
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    pub fn row(&self, index: Index) -> u32 {
        self.rows[index as usize]
    }

    pub fn rows(&self) -> &[u32] {
        &self.rows
    }

    pub fn index_of(&self, row: u32) -> Index {
        self.index_of[row as usize]
    }

    /// The rows a message from index `from` to `to` goes to, in index
    /// order: `All` is every other member, crashed ones included (SPEC §2).
    pub fn destinations(&self, to: Target, from: Index) -> impl Iterator<Item = u32> + '_ {
        let (range, skip) = match to {
            Target::One(i) => (i..i + 1, None),
            Target::All => (0..self.len() as Index, Some(from)),
        };
        range.filter(move |i| Some(*i) != skip).map(move |i| self.row(i))
    }

    /// `δ_j`, guard included.
    pub fn delta(&self, j: Index) -> Span {
        self.delta[j as usize]
    }

    /// `Σ_{j<i} δ_j`.
    pub fn prefix(&self, i: Index) -> Span {
        self.prefix[i as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn destinations_are_rows_in_index_order_without_the_sender() {
        let t = RankTable::new(1, vec![2, 0, 1], &[vec![0; 3], vec![0; 3], vec![0; 3]], Span::ZERO);
        assert_eq!(t.destinations(Target::All, 1).collect::<Vec<_>>(), [2, 1], "indexes 0 and 2, as rows");
        assert_eq!(t.destinations(Target::One(2), 0).collect::<Vec<_>>(), [1]);
    }

    fn patent() -> Vec<Vec<u64>> {
        [[0, 20, 110, 110, 75], [20, 0, 120, 105, 80], [110, 120, 0, 80, 60], [110, 105, 80, 0, 55], [75, 80, 60, 55, 0]]
            .iter()
            .map(|r| r.iter().map(|ms| ms * 1000).collect())
            .collect()
    }

    #[test]
    fn delta_follows_paragraph_0047() {
        let t = RankTable::new(1, vec![0, 1, 2, 3, 4], &patent(), Span::ZERO);
        let ms: Vec<u64> = (0..5).map(|j| t.delta(j).0 / 1000).collect();
        assert_eq!(ms, vec![0, 120, 80, 55, 0]);
        let pre: Vec<u64> = (0..5).map(|j| t.prefix(j).0 / 1000).collect();
        assert_eq!(pre, vec![0, 0, 120, 200, 255]);
    }

    #[test]
    fn guard_skips_first_and_last() {
        let t = RankTable::new(1, vec![0, 1, 2, 3, 4], &patent(), Span::from_ms(10));
        let ms: Vec<u64> = (0..5).map(|j| t.delta(j).0 / 1000).collect();
        assert_eq!(ms, vec![0, 130, 90, 65, 0]);
    }

    #[test]
    fn reranking_reads_the_matrix_through_rows() {
        // Tokyo first, then Sydney, Bangalore, Atlanta, Ottawa.
        let t = RankTable::new(2, vec![4, 3, 2, 1, 0], &patent(), Span::ZERO);
        assert_eq!(t.index_of(4), 0);
        assert_eq!(t.row(1), 3);
        // δ_1 = max over sydney -> {bangalore, atlanta, ottawa} = 110.
        assert_eq!(t.delta(1), Span::from_ms(110));
    }
}
