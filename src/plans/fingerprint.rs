//! A plan's fingerprint: its shape (node types, relations, indexes, functions) without costs or
//! row counts, as a readable line and a stable hash, so a changed plan can be told from a
//! re-costed one.

use serde::{Deserialize, Serialize};

use super::tree::PlanNode;

/// The shape of one statement's plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fingerprint {
    /// 16 hex digits of FNV-1a 64 over the canonical shape (schema-qualified names).
    pub hash: String,
    /// `Limit -> Sort -> Seq Scan(orders)`; siblings in brackets:
    /// `Hash Join[Seq Scan(orders), Hash -> Seq Scan(users)]`.
    pub shape: String,
}

impl Fingerprint {
    pub fn of(root: &PlanNode) -> Fingerprint {
        Fingerprint {
            hash: format!("{:016x}", fnv1a(canonical(root).as_bytes())),
            shape: shape(root),
        }
    }
}

/// What a node contributes to its shape: the index it uses, else the relation it reads, else
/// the function it calls.
fn target(n: &PlanNode, qualified: bool) -> Option<String> {
    if let Some(ix) = &n.index_name {
        return Some(match (&n.schema, qualified) {
            (Some(s), true) => format!("{s}.{ix}"),
            _ => ix.clone(),
        });
    }
    if let Some(r) = &n.relation {
        return Some(match (&n.schema, qualified) {
            (Some(s), true) => format!("{s}.{r}"),
            _ => r.clone(),
        });
    }
    n.function_name.clone()
}

fn render(n: &PlanNode, qualified: bool) -> String {
    let mut s = n.node_type.clone();
    if let Some(t) = target(n, qualified) {
        s.push_str(&format!("({t})"));
    }
    match n.children.len() {
        0 => s,
        1 => format!("{s} -> {}", render(&n.children[0], qualified)),
        _ => {
            let kids: Vec<String> = n.children.iter().map(|c| render(c, qualified)).collect();
            format!("{s}[{}]", kids.join(", "))
        }
    }
}

/// The readable shape.
pub fn shape(root: &PlanNode) -> String {
    render(root, false)
}

/// The hashed form: like the shape, with schema-qualified names.
fn canonical(root: &PlanNode) -> String {
    render(root, true)
}

/// FNV-1a, 64 bits: stable across builds and platforms (the std hasher is not promised to be).
fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plans::tree::tests::{node, with};
    use serde_json::json;

    fn tree(v: serde_json::Value) -> PlanNode {
        PlanNode::from_explain(&v).unwrap()
    }

    fn scan(kind: &str, rel: &str, index: Option<&str>, rows: f64) -> serde_json::Value {
        let mut extra = json!({"Schema": "public", "Relation Name": rel});
        if let Some(i) = index {
            extra["Index Name"] = json!(i);
        }
        with(node(kind, rows, 8.0, vec![]), extra)
    }

    #[test]
    fn shape_names_indexes_relations_and_siblings() {
        let t = tree(node(
            "Hash Join",
            10.0,
            8.0,
            vec![
                scan("Index Scan", "orders", Some("orders_pkey"), 10.0),
                node("Hash", 5.0, 8.0, vec![scan("Seq Scan", "users", None, 5.0)]),
            ],
        ));
        assert_eq!(
            Fingerprint::of(&t).shape,
            "Hash Join[Index Scan(orders_pkey), Hash -> Seq Scan(users)]"
        );
    }

    #[test]
    fn costs_do_not_change_the_hash_but_the_access_path_does() {
        let a = tree(node(
            "Limit",
            1.0,
            8.0,
            vec![scan("Index Scan", "orders", Some("orders_pkey"), 10.0)],
        ));
        let b = tree(node(
            "Limit",
            7.0,
            8.0,
            vec![scan("Index Scan", "orders", Some("orders_pkey"), 99999.0)],
        ));
        let c = tree(node(
            "Limit",
            1.0,
            8.0,
            vec![scan("Seq Scan", "orders", None, 10.0)],
        ));
        let (fa, fb, fc) = (
            Fingerprint::of(&a),
            Fingerprint::of(&b),
            Fingerprint::of(&c),
        );
        assert_eq!(fa, fb);
        assert_ne!(fa.hash, fc.hash);
        assert_eq!(fa.hash.len(), 16);
        assert_eq!(fc.shape, "Limit -> Seq Scan(orders)");
    }

    #[test]
    fn the_schema_counts_in_the_hash() {
        let a = tree(scan("Seq Scan", "t", None, 1.0));
        let b = tree(with(
            scan("Seq Scan", "t", None, 1.0),
            json!({"Schema": "other"}),
        ));
        assert_eq!(Fingerprint::of(&a).shape, Fingerprint::of(&b).shape);
        assert_ne!(Fingerprint::of(&a).hash, Fingerprint::of(&b).hash);
    }

    #[test]
    fn fnv_reference_values() {
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
    }
}
