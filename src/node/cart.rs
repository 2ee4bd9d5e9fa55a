//! Shopping carts (Dynamo §4.4) as persistent sets, so that a cart operation costs the same
//! whatever the cart's size.
//!
//! A cart is a treap: a binary search tree on the item that is also a heap on a priority
//! computed from the item by a bijective mixer. Distinct items have distinct priorities, so a
//! set of items has exactly one shape. Updates copy only the path they change (O(log n) new
//! nodes) and share the rest with the cart they came from, which makes copying a cart free and
//! lets a union skip every subtree the two carts share (`Rc::ptr_eq`): merging two versions of
//! one cart costs O(d log n) for d differences, not O(n). Each node counts its subtree's items
//! and live items, so a client picks the k-th present item in O(log n) too.
//!
//! Observed results are exactly those of a sorted vector of items (and one of tombstones): the
//! same items in the same order, the same k-th item, the same sizes.

use std::cmp::Ordering;
use std::fmt;
use std::rc::Rc;

use crate::sim::rng::splitmix64;

/// How a client merges sibling carts, and so whether a removal can be undone.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum CartMerge {
    /// Dynamo's cart (§4.4): a cart is its set of items, siblings merge by union, and a removal
    /// deletes the item. A concurrent sibling that still holds the item brings it back: deleted
    /// items can resurface.
    Union,
    /// An add-wins observed-remove set (the CRDT of Riak's data types): a removal is kept as a
    /// tombstone of the add it observed, so it sticks unless the item is concurrently re-added
    /// (never, here: each add is a fresh item).
    ObservedRemove,
}

/// A shopping cart: items added and, under the observed-remove merge, tombstones of removed
/// ones. Every tombstone marks an item the cart holds (a removal only removes a present item),
/// so one tree holds both, each node flagged live or removed.
#[derive(Clone, Default)]
pub struct Cart {
    root: Link,
}

type Link = Option<Rc<Node>>;

struct Node {
    item: u64,
    removed: bool,
    /// Items in this subtree, tombstoned or not.
    size: u32,
    /// Items in this subtree that are not tombstoned.
    live: u32,
    left: Link,
    right: Link,
}

/// The heap priority of an item: a bijection on u64, so no two items tie and the shape is
/// canonical.
fn priority(item: u64) -> u64 {
    splitmix64(item)
}

fn size(link: &Link) -> u32 {
    link.as_ref().map_or(0, |n| n.size)
}

fn live(link: &Link) -> u32 {
    link.as_ref().map_or(0, |n| n.live)
}

fn same(a: &Link, b: &Link) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => Rc::ptr_eq(a, b),
        _ => false,
    }
}

fn node(item: u64, removed: bool, left: Link, right: Link) -> Link {
    let size = 1 + size(&left) + size(&right);
    let live = u32::from(!removed) + live(&left) + live(&right);
    Some(Rc::new(Node { item, removed, size, live, left, right }))
}

/// `n` with new children, or `n` itself when they are the ones it has (keeps sharing).
fn rebuild(n: &Rc<Node>, left: Link, right: Link) -> Link {
    if same(&left, &n.left) && same(&right, &n.right) {
        Some(n.clone())
    } else {
        node(n.item, n.removed, left, right)
    }
}

/// Items below `item`, `item`'s own removed flag if present, items above.
fn split(link: &Link, item: u64) -> (Link, Option<bool>, Link) {
    let Some(n) = link else { return (None, None, None) };
    match item.cmp(&n.item) {
        Ordering::Equal => (n.left.clone(), Some(n.removed), n.right.clone()),
        Ordering::Less => {
            let (l, found, r) = split(&n.left, item);
            (l, found, rebuild(n, r, n.right.clone()))
        }
        Ordering::Greater => {
            let (l, found, r) = split(&n.right, item);
            (rebuild(n, n.left.clone(), l), found, r)
        }
    }
}

/// Every item of `left` is below every item of `right`.
fn join(left: &Link, right: &Link) -> Link {
    match (left, right) {
        (None, _) => right.clone(),
        (_, None) => left.clone(),
        (Some(l), Some(r)) => {
            if priority(l.item) > priority(r.item) {
                rebuild(l, l.left.clone(), join(&l.right, right))
            } else {
                rebuild(r, join(left, &r.left), r.right.clone())
            }
        }
    }
}

/// Union of two treaps, a tombstone in either kept; subtrees the two share are not visited.
fn union(a: &Link, b: &Link) -> Link {
    let (x, y) = match (a, b) {
        (None, _) => return b.clone(),
        (_, None) => return a.clone(),
        (Some(x), Some(y)) if Rc::ptr_eq(x, y) => return a.clone(),
        (Some(x), Some(y)) => (x, y),
    };
    // The root with the higher priority stays the root (both roots, if they hold the same
    // item); the other tree is split around it, which costs nothing when its root is that item.
    let (top, top_link, other, other_link) = if priority(x.item) >= priority(y.item) { (x, a, y, b) } else { (y, b, x, a) };
    let (below, found, above) = split(other_link, top.item);
    let left = union(&top.left, &below);
    let right = union(&top.right, &above);
    let removed = top.removed || found.unwrap_or(false);
    // A result equal to an input is that input, so later merges can skip it.
    for (n, link) in [(top, top_link), (other, other_link)] {
        if n.item == top.item && n.removed == removed && same(&left, &n.left) && same(&right, &n.right) {
            return link.clone();
        }
    }
    node(top.item, removed, left, right)
}

/// `link` with `item` present: added live if absent, unchanged if present.
fn insert(link: &Link, item: u64) -> Link {
    let Some(n) = link else { return node(item, false, None, None) };
    if item == n.item {
        return link.clone();
    }
    if priority(item) > priority(n.item) {
        let (below, _, above) = split(link, item);
        return node(item, false, below, above);
    }
    if item < n.item {
        rebuild(n, insert(&n.left, item), n.right.clone())
    } else {
        rebuild(n, n.left.clone(), insert(&n.right, item))
    }
}

/// `link` with `item` deleted (`tombstone` false) or flagged removed (`tombstone` true).
fn remove(link: &Link, item: u64, tombstone: bool) -> Link {
    let Some(n) = link else { return None };
    match item.cmp(&n.item) {
        Ordering::Less => rebuild(n, remove(&n.left, item, tombstone), n.right.clone()),
        Ordering::Greater => rebuild(n, n.left.clone(), remove(&n.right, item, tombstone)),
        Ordering::Equal if !tombstone => join(&n.left, &n.right),
        Ordering::Equal if n.removed => link.clone(),
        Ordering::Equal => node(n.item, true, n.left.clone(), n.right.clone()),
    }
}

fn equal(a: &Link, b: &Link) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(x), Some(y)) => {
            Rc::ptr_eq(x, y)
                || (x.item == y.item
                    && x.removed == y.removed
                    && x.size == y.size
                    && equal(&x.left, &y.left)
                    && equal(&x.right, &y.right))
        }
        _ => false,
    }
}

/// In order, the nodes `keep` accepts.
fn walk(link: &Link, keep: &impl Fn(&Node) -> bool, out: &mut Vec<u64>) {
    if let Some(n) = link {
        walk(&n.left, keep, out);
        if keep(n) {
            out.push(n.item);
        }
        walk(&n.right, keep, out);
    }
}

impl Cart {
    /// Union of adds and of tombstones (there are none under the union merge).
    pub fn merge(&mut self, other: &Cart) {
        self.root = union(&self.root, &other.root);
    }

    pub fn add(&mut self, item: u64) {
        self.root = insert(&self.root, item);
    }

    /// Removes a present item: deletes it (union merge) or tombstones it (observed-remove).
    pub fn remove(&mut self, item: u64, merge: CartMerge) {
        self.root = remove(&self.root, item, merge == CartMerge::ObservedRemove);
    }

    /// How many items are present (added and not removed).
    pub fn len(&self) -> usize {
        live(&self.root) as usize
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The `index`-th present item in ascending order, if there are that many.
    pub fn nth(&self, mut index: usize) -> Option<u64> {
        let mut link = &self.root;
        while let Some(n) = link {
            let below = live(&n.left) as usize;
            if index < below {
                link = &n.left;
                continue;
            }
            index -= below;
            if !n.removed {
                if index == 0 {
                    return Some(n.item);
                }
                index -= 1;
            }
            link = &n.right;
        }
        None
    }

    /// Items present, ascending.
    pub fn items(&self) -> Vec<u64> {
        self.collect(|n| !n.removed)
    }

    /// Every item ever added and still held, removed or not, ascending.
    pub fn adds(&self) -> Vec<u64> {
        self.collect(|_| true)
    }

    /// Items removed under the observed-remove merge, ascending.
    pub fn tombstones(&self) -> Vec<u64> {
        self.collect(|n| n.removed)
    }

    fn collect(&self, keep: impl Fn(&Node) -> bool) -> Vec<u64> {
        let mut out = Vec::new();
        walk(&self.root, &keep, &mut out);
        out
    }

    /// Bytes on the wire: eight per item added and eight per tombstone.
    pub fn size_bytes(&self) -> usize {
        let all = size(&self.root) as usize;
        8 * (all + all - self.len())
    }
}

impl PartialEq for Cart {
    fn eq(&self, other: &Cart) -> bool {
        equal(&self.root, &other.root)
    }
}

impl Eq for Cart {}

impl fmt::Debug for Cart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cart").field("items", &self.items()).field("tombstones", &self.tombstones()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::rng::{index, SplitMix};
    use std::collections::BTreeSet;

    fn pick(rng: &mut SplitMix, n: u64) -> u64 {
        index(rng, n as usize) as u64
    }

    /// The reference: the sorted vectors carts were before they became trees.
    #[derive(Clone, Default)]
    struct Model {
        adds: BTreeSet<u64>,
        removes: BTreeSet<u64>,
    }

    impl Model {
        fn items(&self) -> Vec<u64> {
            self.adds.difference(&self.removes).copied().collect()
        }
    }

    fn check(cart: &Cart, model: &Model) {
        assert_eq!(cart.items(), model.items());
        assert_eq!(cart.adds(), model.adds.iter().copied().collect::<Vec<_>>());
        assert_eq!(cart.tombstones(), model.removes.iter().copied().collect::<Vec<_>>());
        assert_eq!(cart.len(), model.items().len());
        assert_eq!(cart.size_bytes(), 8 * (model.adds.len() + model.removes.len()));
        for (i, item) in model.items().iter().enumerate() {
            assert_eq!(cart.nth(i), Some(*item));
        }
        assert_eq!(cart.nth(model.items().len()), None);
    }

    #[test]
    fn a_removal_resurfaces_under_the_union_merge_and_sticks_under_observed_remove() {
        for (merge, expected) in [(CartMerge::Union, vec![1, 2, 3]), (CartMerge::ObservedRemove, vec![1, 3])] {
            // Both siblings descend from a cart holding 1 and 2; one removed 2, the other added 3.
            let mut base = Cart::default();
            base.add(1);
            base.add(2);
            let mut removed = base.clone();
            removed.remove(2, merge);
            let mut added = base;
            added.add(3);
            let mut merged = removed.clone();
            merged.merge(&added);
            assert_eq!(merged.items(), expected, "{merge:?}");
            let mut again = merged.clone();
            again.merge(&merged);
            assert_eq!(again, merged, "idempotent");
        }
    }

    /// Many carts descending from each other by adds, removals and merges agree with sorted
    /// sets at every step, and equal sets built different ways compare equal (one shape).
    #[test]
    fn carts_agree_with_sorted_sets_through_random_histories() {
        for merge in [CartMerge::Union, CartMerge::ObservedRemove] {
            let mut rng = SplitMix(7);
            let mut carts = vec![(Cart::default(), Model::default())];
            let mut next_item = 0u64;
            for _ in 0..3000 {
                let a = pick(&mut rng, carts.len() as u64) as usize;
                let (mut cart, mut model) = carts[a].clone();
                match pick(&mut rng, 3) {
                    0 => {
                        next_item += 1 + pick(&mut rng, 1000);
                        cart.add(next_item);
                        model.adds.insert(next_item);
                    }
                    1 => {
                        let present = model.items();
                        if !present.is_empty() {
                            let item = present[pick(&mut rng, present.len() as u64) as usize];
                            cart.remove(item, merge);
                            match merge {
                                CartMerge::Union => model.adds.remove(&item),
                                CartMerge::ObservedRemove => model.removes.insert(item),
                            };
                        }
                    }
                    _ => {
                        let (other, other_model) = &carts[pick(&mut rng, carts.len() as u64) as usize];
                        cart.merge(other);
                        model.adds.extend(&other_model.adds);
                        model.removes.extend(&other_model.removes);
                    }
                }
                check(&cart, &model);
                let mut rebuilt = Cart::default();
                for item in &model.adds {
                    rebuilt.add(*item);
                }
                for item in &model.removes {
                    rebuilt.remove(*item, CartMerge::ObservedRemove);
                }
                assert!(rebuilt == cart, "one set, one shape");
                if carts.len() < 40 {
                    carts.push((cart, model));
                } else {
                    carts[a] = (cart, model);
                }
            }
        }
    }

    /// A merge of two carts that differ in one item each builds O(log n) nodes, not O(n): the
    /// result shares all but a few paths with its inputs.
    #[test]
    fn merging_near_copies_shares_structure() {
        let mut base = Cart::default();
        for item in 0..100_000 {
            base.add(item * 3);
        }
        let mut a = base.clone();
        a.add(1);
        let mut b = base.clone();
        b.add(2);
        a.merge(&b);
        let (mut fresh, mut seen) = (0, std::collections::HashSet::new());
        fn count(link: &Link, base: &std::collections::HashSet<*const Node>, fresh: &mut usize) {
            if let Some(n) = link {
                if base.contains(&Rc::as_ptr(n)) {
                    return;
                }
                *fresh += 1;
                count(&n.left, base, fresh);
                count(&n.right, base, fresh);
            }
        }
        fn all(link: &Link, out: &mut std::collections::HashSet<*const Node>) {
            if let Some(n) = link {
                out.insert(Rc::as_ptr(n));
                all(&n.left, out);
                all(&n.right, out);
            }
        }
        all(&base.root, &mut seen);
        count(&a.root, &seen, &mut fresh);
        assert_eq!(a.len(), 100_002);
        assert!(fresh < 200, "the merge rebuilt {fresh} of 100,002 nodes");
    }
}
