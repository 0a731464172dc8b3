//! Who can reach whom: partitions and one-way cuts (SPEC §6), after
//! turmoil's `partition` and `partition_oneway` verbs.

/// The reachability state. Rows are servers.
#[derive(Clone, Debug)]
pub struct Reach {
    /// A side number per row; rows on different sides cannot talk.
    side: Vec<u32>,
    /// One-way cuts `(from, to)`.
    cuts: Vec<(u32, u32)>,
}

impl Reach {
    pub fn new(n: usize) -> Reach {
        Reach { side: vec![0; n], cuts: Vec::new() }
    }

    /// Installs a partition, replacing the previous one. Listed groups get
    /// their own side; every unlisted row stands alone.
    pub fn partition(&mut self, groups: &[Vec<u32>]) {
        let n = self.side.len() as u32;
        // Unlisted rows get sides n.. so they never match a group.
        for (r, s) in self.side.iter_mut().enumerate() {
            *s = n + r as u32;
        }
        for (g, group) in groups.iter().enumerate() {
            for &r in group {
                self.side[r as usize] = g as u32;
            }
        }
    }

    /// Adds a one-way cut: `from` can no longer reach `to`.
    pub fn cut(&mut self, from: u32, to: u32) {
        if !self.cuts.contains(&(from, to)) {
            self.cuts.push((from, to));
        }
    }

    /// Removes every partition and cut.
    pub fn heal(&mut self) {
        self.side.iter_mut().for_each(|s| *s = 0);
        self.cuts.clear();
    }

    /// Can a message from `from` reach `to`?
    pub fn can_send(&self, from: u32, to: u32) -> bool {
        self.side[from as usize] == self.side[to as usize] && !self.cuts.contains(&(from, to))
    }

    pub fn is_whole(&self) -> bool {
        self.cuts.is_empty() && self.side.iter().all(|s| *s == self.side[0])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partition_isolates_unlisted_rows() {
        let mut r = Reach::new(4);
        r.partition(&[vec![0, 1]]);
        assert!(r.can_send(0, 1));
        assert!(!r.can_send(0, 2));
        assert!(!r.can_send(2, 3), "unlisted rows stand alone");
        r.heal();
        assert!(r.can_send(2, 3));
    }

    #[test]
    fn cut_is_one_way() {
        let mut r = Reach::new(3);
        r.cut(0, 1);
        assert!(!r.can_send(0, 1));
        assert!(r.can_send(1, 0));
        assert!(!r.is_whole());
    }
}
