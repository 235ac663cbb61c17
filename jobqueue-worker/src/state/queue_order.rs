//! The order in which a fetch tries the worker's queues.

use crate::config::QueueOrder;

/// Picks the order of queue indexes for one fetch round.
#[derive(Debug)]
pub(crate) struct QueuePicker {
    order: QueueOrder,
}

impl QueuePicker {
    pub(crate) fn new(order: QueueOrder) -> Self {
        Self { order }
    }

    /// Queue indexes (into `QueueOrder::names()`) in the order to try them.
    pub(crate) fn next_round(&self) -> Vec<usize> {
        match &self.order {
            QueueOrder::Strict(names) => (0..names.len()).collect(),
            // Resolved at start; never reaches a running worker.
            QueueOrder::Registered => Vec::new(),
            QueueOrder::Weighted(weighted) => {
                weighted_order(weighted.iter().map(|(_, w)| *w), fastrand::u64(..))
            }
        }
    }
}

/// A weighted random permutation: repeatedly draws the next queue with
/// probability proportional to its weight among those not yet drawn.
/// `seed` makes it deterministic for tests.
fn weighted_order(weights: impl Iterator<Item = u32>, seed: u64) -> Vec<usize> {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut remaining: Vec<(usize, u64)> = weights
        .enumerate()
        .map(|(index, weight)| (index, u64::from(weight.max(1))))
        .collect();
    let mut order = Vec::with_capacity(remaining.len());
    while !remaining.is_empty() {
        let total: u64 = remaining.iter().map(|(_, w)| w).sum();
        let mut pick = rng.u64(..total);
        let position = remaining
            .iter()
            .position(|(_, weight)| {
                if pick < *weight {
                    true
                } else {
                    pick -= weight;
                    false
                }
            })
            .unwrap_or(0);
        order.push(remaining.remove(position).0);
    }
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict_order_is_the_configured_order() {
        let picker = QueuePicker::new(QueueOrder::Strict(vec!["a".into(), "b".into(), "c".into()]));
        assert_eq!(picker.next_round(), vec![0, 1, 2]);
    }

    #[test]
    fn weighted_order_follows_the_weights() {
        let mut first = [0u32; 3];
        for seed in 0..30_000 {
            let order = weighted_order([6, 3, 1].into_iter(), seed);
            let mut sorted = order.clone();
            sorted.sort();
            assert_eq!(sorted, vec![0, 1, 2], "a permutation");
            first[order[0]] += 1;
        }
        let share = |i: usize| f64::from(first[i]) / 30_000.0;
        assert!((share(0) - 0.6).abs() < 0.02, "{first:?}");
        assert!((share(1) - 0.3).abs() < 0.02, "{first:?}");
        assert!((share(2) - 0.1).abs() < 0.02, "{first:?}");
    }
}
