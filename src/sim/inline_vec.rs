//! A list that keeps up to `N` items inline and moves to the heap only past that.
//!
//! A coordinator keeps several short lists per request (the replicas asked, their replies, the
//! fall-backs left); with N = 3 they hold three to five items, and as `Vec`s they were a third
//! of the simulator's allocations. Safe code only: unused inline slots hold `T::default()`, so
//! an item taken out or dropped from the list leaves a default behind, never a stale value.

use std::ops::{Deref, DerefMut};

#[derive(Clone, Debug)]
pub enum InlineVec<T, const N: usize> {
    Inline { len: u8, items: [T; N] },
    Heap(Vec<T>),
}

impl<T: Default, const N: usize> Default for InlineVec<T, N> {
    fn default() -> Self {
        const { assert!(N <= u8::MAX as usize, "an inline length is a u8") };
        InlineVec::Inline { len: 0, items: std::array::from_fn(|_| T::default()) }
    }
}

impl<T: Default, const N: usize> InlineVec<T, N> {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, item: T) {
        match self {
            InlineVec::Inline { len, items } if usize::from(*len) < N => {
                items[usize::from(*len)] = item;
                *len += 1;
            }
            InlineVec::Inline { items, .. } => {
                let mut spilled = Vec::with_capacity(2 * N + 1);
                spilled.extend(items.iter_mut().map(std::mem::take));
                spilled.push(item);
                *self = InlineVec::Heap(spilled);
            }
            InlineVec::Heap(v) => v.push(item),
        }
    }

    /// Removes and returns the item at `index`, shifting the rest down (as `Vec::remove`).
    pub fn remove(&mut self, index: usize) -> T {
        match self {
            InlineVec::Inline { len, items } => {
                let live = &mut items[..usize::from(*len)];
                let item = std::mem::take(&mut live[index]);
                live[index..].rotate_left(1);
                *len -= 1;
                item
            }
            InlineVec::Heap(v) => v.remove(index),
        }
    }

    /// Removes and returns the item at `index`, the last item taking its place (as
    /// `Vec::swap_remove`).
    pub fn swap_remove(&mut self, index: usize) -> T {
        let last = self.len() - 1;
        self.swap(index, last);
        self.remove(last)
    }

    /// Keeps the items `keep` accepts, in order (as `Vec::retain`).
    pub fn retain(&mut self, mut keep: impl FnMut(&T) -> bool) {
        match self {
            InlineVec::Inline { len, items } => {
                let live = &mut items[..usize::from(*len)];
                let mut kept = 0;
                for i in 0..live.len() {
                    if keep(&live[i]) {
                        live.swap(kept, i);
                        kept += 1;
                    }
                }
                live[kept..].iter_mut().for_each(|x| *x = T::default());
                *len = kept as u8;
            }
            InlineVec::Heap(v) => v.retain(keep),
        }
    }
}

impl<T: Default, const N: usize> FromIterator<T> for InlineVec<T, N> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        let mut list = Self::default();
        list.extend(iter);
        list
    }
}

impl<T: Default, const N: usize> Extend<T> for InlineVec<T, N> {
    fn extend<I: IntoIterator<Item = T>>(&mut self, iter: I) {
        for item in iter {
            self.push(item);
        }
    }
}

impl<T: Default + Clone, const N: usize> From<&[T]> for InlineVec<T, N> {
    fn from(items: &[T]) -> Self {
        items.iter().cloned().collect()
    }
}

impl<T, const N: usize> Deref for InlineVec<T, N> {
    type Target = [T];

    fn deref(&self) -> &[T] {
        match self {
            InlineVec::Inline { len, items } => &items[..usize::from(*len)],
            InlineVec::Heap(v) => v,
        }
    }
}

impl<T, const N: usize> DerefMut for InlineVec<T, N> {
    fn deref_mut(&mut self) -> &mut [T] {
        match self {
            InlineVec::Inline { len, items } => &mut items[..usize::from(*len)],
            InlineVec::Heap(v) => v,
        }
    }
}

impl<'a, T, const N: usize> IntoIterator for &'a InlineVec<T, N> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::rc::Rc;

    #[derive(Clone, Debug)]
    enum Op {
        Push(u32),
        Remove(usize),
        RetainNot(u32),
        SwapRemove(usize),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            3 => (0u32..8).prop_map(Op::Push),
            1 => (0usize..10).prop_map(Op::Remove),
            1 => (0u32..8).prop_map(Op::RetainNot),
            1 => (0usize..10).prop_map(Op::SwapRemove),
        ]
    }

    proptest! {
        /// Every operation, inline and spilled, leaves the same items as a `Vec` given the same.
        #[test]
        fn behaves_as_a_vec(ops in proptest::collection::vec(op(), 0..40)) {
            let mut list: InlineVec<u32, 3> = InlineVec::new();
            let mut model: Vec<u32> = Vec::new();
            for op in ops {
                match op {
                    Op::Push(x) => { list.push(x); model.push(x); }
                    Op::Remove(i) if i < model.len() => prop_assert_eq!(list.remove(i), model.remove(i)),
                    Op::SwapRemove(i) if i < model.len() => prop_assert_eq!(list.swap_remove(i), model.swap_remove(i)),
                    Op::Remove(_) | Op::SwapRemove(_) => {}
                    Op::RetainNot(x) => { list.retain(|&y| y != x); model.retain(|&y| y != x); }
                }
                prop_assert_eq!(&list[..], &model[..]);
            }
        }
    }

    #[test]
    fn spills_to_the_heap_past_its_capacity_and_keeps_order() {
        let mut list: InlineVec<u32, 2> = [1, 2].as_slice().into();
        assert!(matches!(list, InlineVec::Inline { len: 2, .. }));
        list.push(3);
        assert!(matches!(list, InlineVec::Heap(_)));
        assert_eq!(&list[..], &[1, 2, 3]);
    }

    #[test]
    fn an_item_removed_or_dropped_is_released_at_once() {
        let shared = Rc::new(7);
        let mut list: InlineVec<Option<Rc<i32>>, 4> = InlineVec::new();
        list.extend([Some(shared.clone()), Some(shared.clone()), None]);
        assert_eq!(Rc::strong_count(&shared), 3);
        drop(list.remove(0));
        assert_eq!(Rc::strong_count(&shared), 2);
        list.retain(Option::is_none);
        assert_eq!(Rc::strong_count(&shared), 1);
        assert_eq!(list.len(), 1);
    }
}
