//! A device tree as an owned value that can be edited and written back:
//! the `dtc -I dtb -O dts`, edit, `dtc -O dtb` round trip without `dtc`.
//! Boot tests use it to make the bad trees they boot; the boot fuzzer
//! mutates trees with it property by property.

use crate::Result;
use fdt::parsing::{unaligned::UnalignedParser, NoPanic};
use vm_fdt::{FdtReserveEntry, FdtWriter};

type FdtNode<'a> = fdt::nodes::Node<'a, (UnalignedParser<'a>, NoPanic)>;

/// One node: its full name (`cpu@1`, the root's is empty), its properties
/// in order (a name may repeat: that is a mutation too) and its children.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DtNode {
    pub name: String,
    pub props: Vec<(String, Vec<u8>)>,
    pub children: Vec<DtNode>,
}

/// A whole tree: the `/memreserve/` entries and the root node.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Tree {
    pub reservations: Vec<(u64, u64)>,
    pub root: DtNode,
}

fn fdt_err(e: fdt::FdtError) -> String {
    format!("cannot read the device tree: {e}")
}

fn be32(v: &[u8], at: usize) -> u32 {
    v.get(at..at + 4).map_or(0, |b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

fn be64(v: &[u8], at: usize) -> u64 {
    (u64::from(be32(v, at)) << 32) | u64::from(be32(v, at + 4))
}

/// Cells as property bytes (big-endian).
pub fn cells(values: &[u32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_be_bytes()).collect()
}

/// A string property's bytes (NUL-terminated).
pub fn string(s: &str) -> Vec<u8> {
    let mut v = s.as_bytes().to_vec();
    v.push(0);
    v
}

impl DtNode {
    fn read(node: &FdtNode<'_>, root: bool) -> Result<DtNode> {
        let name = node.name().map_err(fdt_err)?;
        let name = match (root, name.unit_address) {
            (true, _) => String::new(),
            (false, Some(unit)) => format!("{}@{unit}", name.name),
            (false, None) => name.name.to_string(),
        };
        let mut props = Vec::new();
        for p in node.properties().map_err(fdt_err)?.iter() {
            let p = p.map_err(fdt_err)?;
            props.push((p.name.to_string(), p.value.to_vec()));
        }
        let mut children = Vec::new();
        for c in node.children().map_err(fdt_err)?.iter() {
            children.push(DtNode::read(&c.map_err(fdt_err)?, false)?);
        }
        Ok(DtNode { name, props, children })
    }

    fn write(&self, w: &mut FdtWriter) -> Result<()> {
        let e = |e: vm_fdt::Error| format!("cannot write the device tree at {:?}: {e}", self.name);
        let handle = w.begin_node(&self.name).map_err(e)?;
        for (name, value) in &self.props {
            w.property(name, value).map_err(e)?;
        }
        for c in &self.children {
            c.write(w)?;
        }
        w.end_node(handle).map_err(e)
    }

    /// The value of property `name` (its first, if it repeats).
    pub fn prop(&self, name: &str) -> Option<&[u8]> {
        self.props.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_slice())
    }

    /// Sets property `name` (its first, if it repeats), or adds it.
    pub fn set(&mut self, name: &str, value: Vec<u8>) {
        match self.props.iter_mut().find(|(n, _)| n == name) {
            Some((_, v)) => *v = value,
            None => self.props.push((name.to_string(), value)),
        }
    }

    /// Removes every property called `name`; whether there was one.
    pub fn remove(&mut self, name: &str) -> bool {
        let before = self.props.len();
        self.props.retain(|(n, _)| n != name);
        self.props.len() != before
    }

    /// The child called `name`, or, for a name without a unit address,
    /// the only child whose name before the `@` is `name`.
    fn child_index(&self, name: &str) -> Option<usize> {
        if let Some(i) = self.children.iter().position(|c| c.name == name) {
            return Some(i);
        }
        let mut by_base = self.children.iter().enumerate().filter(|(_, c)| c.name.split('@').next() == Some(name));
        match (by_base.next(), by_base.next()) {
            (Some((i, _)), None) if !name.contains('@') => Some(i),
            _ => None,
        }
    }
}

impl Tree {
    /// Reads a flattened device tree.
    pub fn parse(blob: &[u8]) -> Result<Tree> {
        let fdt = fdt::Fdt::new_unaligned_fallible(blob).map_err(fdt_err)?;
        let root = fdt.root().map_err(fdt_err)?;
        let root = root.find_node("/").map_err(fdt_err)?.ok_or("the device tree has no root node")?;
        let mut reservations = Vec::new();
        let mut at = be32(blob, 16) as usize;
        while at + 16 <= blob.len() {
            let (addr, size) = (be64(blob, at), be64(blob, at + 8));
            if addr == 0 && size == 0 {
                break;
            }
            reservations.push((addr, size));
            at += 16;
        }
        Ok(Tree { reservations, root: DtNode::read(&root, true)? })
    }

    /// Writes the tree as a flattened device tree.
    pub fn to_blob(&self) -> Result<Vec<u8>> {
        let entries = self
            .reservations
            .iter()
            .map(|&(a, s)| FdtReserveEntry::new(a, s).map_err(|e| format!("bad /memreserve/ {a:#x}+{s:#x}: {e}")))
            .collect::<Result<Vec<_>>>()?;
        let mut w = FdtWriter::new_with_mem_reserv(&entries).map_err(|e| e.to_string())?;
        self.root.write(&mut w)?;
        w.finish().map_err(|e| e.to_string())
    }

    /// The node at `path` (`/cpus/cpu@5`; a component may leave out a
    /// unit address that is unique among its siblings: `/cpus/cpu-map`).
    pub fn node(&self, path: &str) -> Option<&DtNode> {
        let mut n = &self.root;
        for part in path.split('/').filter(|p| !p.is_empty()) {
            n = &n.children[n.child_index(part)?];
        }
        Some(n)
    }

    /// [`Tree::node`], to change.
    pub fn node_mut(&mut self, path: &str) -> Option<&mut DtNode> {
        let mut n = &mut self.root;
        for part in path.split('/').filter(|p| !p.is_empty()) {
            let i = n.child_index(part)?;
            n = &mut n.children[i];
        }
        Some(n)
    }

    /// Every node's path, the root's (`/`) first, parents before children.
    pub fn paths(&self) -> Vec<String> {
        fn walk(n: &DtNode, path: String, out: &mut Vec<String>) {
            for c in &n.children {
                let p = format!("{}/{}", path.trim_end_matches('/'), c.name);
                out.push(p.clone());
                walk(c, p, out);
            }
        }
        let mut out = vec!["/".to_string()];
        walk(&self.root, "/".into(), &mut out);
        out
    }

    /// Removes the node at `path` (not the root); whether it was there.
    pub fn remove_node(&mut self, path: &str) -> bool {
        let Some((parent, name)) = path.rsplit_once('/') else { return false };
        let Some(p) = self.node_mut(if parent.is_empty() { "/" } else { parent }) else { return false };
        match p.child_index(name) {
            Some(i) if !name.is_empty() => {
                p.children.remove(i);
                true
            }
            _ => false,
        }
    }

    /// The largest phandle any node has (0 if none).
    pub fn max_phandle(&self) -> u32 {
        fn walk(n: &DtNode) -> u32 {
            let own = n.props.iter().filter(|(k, _)| k == "phandle").map(|(_, v)| be32(v, 0)).max().unwrap_or(0);
            n.children.iter().map(walk).fold(own, u32::max)
        }
        walk(&self.root)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Tree {
        let cpu = |unit: u32| DtNode {
            name: format!("cpu@{unit}"),
            props: vec![("reg".into(), cells(&[unit])), ("phandle".into(), cells(&[unit + 1]))],
            children: vec![],
        };
        let cpus = DtNode {
            name: "cpus".into(),
            props: vec![("#address-cells".into(), cells(&[1])), ("#size-cells".into(), cells(&[0]))],
            children: vec![cpu(0), cpu(1), DtNode { name: "cpu-map".into(), ..DtNode::default() }],
        };
        let root = DtNode { name: String::new(), props: vec![("model".into(), string("test"))], children: vec![cpus] };
        Tree { reservations: vec![(0x1000, 0x2000)], root }
    }

    #[test]
    fn a_tree_survives_the_round_trip_through_a_blob() {
        let t = sample();
        let blob = t.to_blob().expect("write");
        assert_eq!(Tree::parse(&blob).expect("read"), t);
    }

    #[test]
    fn nodes_are_found_by_path_changed_and_removed() {
        let mut t = sample();
        assert_eq!(t.paths(), ["/", "/cpus", "/cpus/cpu@0", "/cpus/cpu@1", "/cpus/cpu-map"]);
        assert!(t.node("/cpus/cpu").is_none(), "two cpu@ nodes: the short name is ambiguous");
        assert!(t.node("/cpus/cpu-map").is_some());
        assert_eq!(t.max_phandle(), 2);
        let cpu = t.node_mut("/cpus/cpu@1").expect("cpu@1");
        cpu.set("enable-method", string("spin-table"));
        cpu.set("reg", cells(&[7]));
        assert_eq!(cpu.prop("reg"), Some(&cells(&[7])[..]));
        assert!(cpu.remove("phandle") && !cpu.remove("phandle"));
        assert!(t.remove_node("/cpus/cpu@0") && !t.remove_node("/cpus/cpu@0") && !t.remove_node("/"));
        let back = Tree::parse(&t.to_blob().expect("write")).expect("read");
        assert_eq!(back.paths(), ["/", "/cpus", "/cpus/cpu@1", "/cpus/cpu-map"]);
        assert_eq!(back.node("/cpus/cpu@1").and_then(|n| n.prop("enable-method")), Some(&b"spin-table\0"[..]));
    }
}
