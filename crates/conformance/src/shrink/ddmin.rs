//! Delta debugging (Zeller's ddmin, complement form): the smallest sublist of a failing list
//! that still fails, found by removing chunks and, at the end, single items.
//!
//! Why not proptest's shrinker: proptest shrinks a value its own strategy generated, and a
//! counterexample starts from a recorded history no strategy produced. ddmin needs only "does
//! this still fail", keeps the order of what is left, and ends 1-minimal (removing any one
//! item more makes it pass), which is what a person reading the result wants (Z36).

/// How many candidate runs a minimization may make.
#[derive(Clone, Copy, Debug)]
pub struct Budget {
    /// Runs left.
    pub runs_left: usize,
    /// Runs made so far.
    pub runs_made: usize,
}

impl Budget {
    /// A budget of `runs`.
    pub fn new(runs: usize) -> Self {
        Self {
            runs_left: runs,
            runs_made: 0,
        }
    }

    /// A budget of half the runs left, for one step of a larger minimization; hand it back
    /// with [`Budget::absorb`].
    pub fn half(&self) -> Budget {
        Budget::new(self.runs_left / 2)
    }

    /// Charges the runs `part` (from [`Budget::half`]) made to this budget.
    pub fn absorb(&mut self, part: Budget) {
        self.runs_left = self.runs_left.saturating_sub(part.runs_made);
        self.runs_made += part.runs_made;
    }

    /// Takes one run; `false` when none is left.
    pub fn spend(&mut self) -> bool {
        if self.runs_left == 0 {
            return false;
        }
        self.runs_left -= 1;
        self.runs_made += 1;
        true
    }
}

/// The smallest sublist of `items` (which fails) for which `fails` still holds, within
/// `budget`. When the budget runs out the smallest failing list found so far is returned.
pub fn ddmin<T: Clone>(
    mut items: Vec<T>,
    budget: &mut Budget,
    mut fails: impl FnMut(&[T]) -> bool,
) -> Vec<T> {
    let mut chunks = 2usize;
    while items.len() >= 2 {
        let size = items.len().div_ceil(chunks);
        let mut reduced = false;
        let mut start = 0;
        while start < items.len() {
            let end = (start + size).min(items.len());
            let candidate: Vec<T> = items[..start]
                .iter()
                .chain(&items[end..])
                .cloned()
                .collect();
            if !budget.spend() {
                return items;
            }
            if fails(&candidate) {
                items = candidate;
                reduced = true;
                // Retry the same position: the next chunk slid into it.
                continue;
            }
            start = end;
        }
        if reduced {
            chunks = chunks.saturating_sub(1).max(2);
        } else if size == 1 {
            break;
        } else {
            chunks = (chunks * 2).min(items.len());
        }
    }
    items
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ddmin_finds_the_two_items_that_together_fail() {
        let items: Vec<u32> = (0..100).collect();
        let mut budget = Budget::new(10_000);
        let found = ddmin(items, &mut budget, |c| c.contains(&17) && c.contains(&83));
        assert_eq!(found, [17, 83]);
        assert!(budget.runs_made < 200, "{} runs", budget.runs_made);
    }

    #[test]
    fn ddmin_keeps_order_and_is_one_minimal() {
        let items: Vec<u32> = (0..40).collect();
        let mut budget = Budget::new(10_000);
        // Fails while at least three even numbers remain.
        let found = ddmin(items, &mut budget, |c| {
            c.iter().filter(|x| *x % 2 == 0).count() >= 3
        });
        assert_eq!(found.len(), 3);
        assert!(found.windows(2).all(|w| w[0] < w[1]));
        assert!(found.iter().all(|x| x % 2 == 0));
    }

    #[test]
    fn an_exhausted_budget_returns_the_smallest_failing_list_so_far() {
        let items: Vec<u32> = (0..64).collect();
        let mut budget = Budget::new(3);
        let found = ddmin(items, &mut budget, |c| c.contains(&5));
        assert!(found.contains(&5));
        assert_eq!(budget.runs_left, 0);
        assert!(found.len() < 64);
    }
}
