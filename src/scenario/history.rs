//! History slots: the filtered and windowed event reads of every expression
//! of a scenario (`count(e, W)`, `since(e, from = A)`, …), one slot per
//! distinct [`HistoryKey`], shared by all the expressions that read it.

use super::model::History;
use crate::expr::{Expr, HistoryKey};
use std::collections::HashMap;

/// The slots found so far while a scenario compiles.
#[derive(Default)]
pub(super) struct Registry {
    slots: HashMap<HistoryKey, u32>,
    histories: Vec<History>,
}

impl Registry {
    /// Gives `expr`'s history reads their scenario-wide slots, recording
    /// each window expression with its slot.
    pub(super) fn bind(&mut self, expr: &mut Expr) {
        let Registry { slots, histories } = self;
        expr.bind_histories(|_, request| {
            let slot = *slots.entry(request.key).or_insert_with(|| {
                histories.push(History {
                    key: request.key,
                    windows: Vec::new(),
                });
                (histories.len() - 1) as u32
            });
            if let Some(w) = &request.window {
                histories[slot as usize].windows.push(w.clone());
            }
            slot
        });
    }

    /// The slots, and for each event type the slots that follow it.
    pub(super) fn finish(self, n_events: usize) -> (Vec<History>, Vec<Vec<u32>>) {
        let mut on = vec![Vec::new(); n_events];
        for (slot, h) in self.histories.iter().enumerate() {
            on[h.key.event as usize].push(slot as u32);
        }
        (self.histories, on)
    }
}
