//! Online log-template mining after Drain (He, Zhu, Zheng, Lyu: "Drain: An Online Log Parsing
//! Approach with Fixed Depth Tree", ICWS 2017).
//!
//! A message's tokens (variables already masked, see [`super::parse`]) walk a fixed-depth
//! prefix tree: first keyed by the token count, then by the first [`DrainParams::depth`]
//! tokens (a masked token takes the `<*>` branch; a node with
//! [`DrainParams::max_children`] named children sends new tokens down `<*>` too). The leaf holds
//! clusters; the line joins the most similar one (share of positions where the template's
//! constant token equals the line's, ties to the template with more `<*>`, then the older
//! one) when the similarity reaches [`DrainParams::similarity`], and the template's differing
//! positions become `<*>`. Otherwise it starts a cluster — unless
//! [`DrainParams::max_clusters`] exist already: then it maps to the overflow template, id
//! `max_clusters`.
//!
//! A template whose constant tokens are too few to ever reach the similarity threshold (say
//! `<*> <*>`, or one whose positions turned `<*>` one by one) can never be the one a line
//! joins: only templates that still can are searched (a leaf's "live" clusters), which gives
//! the same matches as searching them all — and keeps logs full of variable-only lines from
//! scanning thousands of dead templates per line.
//!
//! The miner is deterministic and its state ([`DrainState`]) is plain data in cluster order:
//! each template with its count and the tree path it was filed under, so a miner rebuilt from
//! the state has exactly the tree the online miner had.

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use super::parse::{hash_bytes, token_hash, Tokens, WILDCARD, WILDCARD_TEXT};

/// Prefix tokens in the tree below the token-count level.
pub(crate) const DEPTH: usize = 2;
/// Named children per tree node (more tokens go down `<*>`).
pub(crate) const MAX_CHILDREN: usize = 100;
/// Similarity at which a line joins a cluster.
pub(crate) const SIMILARITY: f64 = 0.5;
/// Templates kept; later new lines map to the overflow template.
pub(crate) const MAX_CLUSTERS: usize = 4096;

/// The miner's settings (stored with the state so a model keeps mining the same way).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub(crate) struct DrainParams {
    /// Prefix tokens used as tree keys.
    pub depth: usize,
    /// Named children per node.
    pub max_children: usize,
    /// Similarity threshold in [0, 1].
    pub similarity: f64,
    /// Cap on templates.
    pub max_clusters: usize,
}

impl Default for DrainParams {
    fn default() -> Self {
        DrainParams {
            depth: DEPTH,
            max_children: MAX_CHILDREN,
            similarity: SIMILARITY,
            max_clusters: MAX_CLUSTERS,
        }
    }
}

/// One template of the stored state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct TemplateState {
    /// Tokens joined by one space, `<*>` for variables.
    pub template: String,
    /// The tree keys it was filed under (`<*>` for the wildcard branch).
    pub path: Vec<String>,
    /// Lines that matched it.
    pub count: u64,
}

/// The miner's state: settings, templates in id order, overflow count.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct DrainState {
    /// Settings.
    pub params: DrainParams,
    /// Templates; a template's id is its position.
    pub templates: Vec<TemplateState>,
    /// Lines mapped to the overflow template.
    pub overflow: u64,
}

#[derive(Debug, Default, Clone)]
struct Node {
    children: FxHashMap<u64, u32>,
    wildcard: Option<u32>,
    /// The leaf's live clusters (see [`Drain::live`]) in id order, which the tie to the older
    /// template relies on.
    clusters: Vec<u32>,
}

#[derive(Debug, Clone)]
struct Cluster {
    hashes: Vec<u64>,
    tokens: Vec<Box<str>>,
    path: Vec<Box<str>>,
    /// The tree leaf it is filed under (to take it off the leaf's live list).
    leaf: u32,
    wildcards: usize,
    count: u64,
}

/// What mining one line gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Mined {
    /// Template id (`max_clusters` for the overflow template).
    pub id: u32,
    /// Lines of this template before this one (fitted ones included).
    pub count_before: u64,
    /// All lines mined before this one (fitted ones included).
    pub total_before: u64,
    /// Whether the line started a template (or went to the overflow template).
    pub new: bool,
}

/// The online miner.
#[derive(Debug, Clone)]
pub(crate) struct Drain {
    params: DrainParams,
    roots: FxHashMap<u32, u32>,
    nodes: Vec<Node>,
    clusters: Vec<Cluster>,
    overflow: u64,
    total: u64,
}

impl Drain {
    /// An empty miner.
    pub fn new(params: DrainParams) -> Drain {
        Drain {
            params,
            roots: FxHashMap::default(),
            nodes: Vec::new(),
            clusters: Vec::new(),
            overflow: 0,
            total: 0,
        }
    }

    /// Templates mined so far (the overflow template not counted).
    pub fn len(&self) -> usize {
        self.clusters.len()
    }

    /// The overflow template's id.
    pub fn overflow_id(&self) -> u32 {
        self.params.max_clusters as u32
    }

    /// Template `id`'s text.
    #[cfg(test)]
    pub fn template(&self, id: u32) -> Option<String> {
        self.clusters.get(id as usize).map(|c| c.tokens.join(" "))
    }

    /// Mines one tokenised line of `message` (the text `tokens` was read from).
    pub fn mine(&mut self, tokens: &Tokens, message: &str) -> Mined {
        let total_before = self.total;
        self.total += 1;
        let n = tokens.hashes.len();
        if let Some(leaf) = self.search(&tokens.hashes) {
            if let Some(id) = self.best_match(leaf, &tokens.hashes) {
                let cluster = &mut self.clusters[id as usize];
                let count_before = cluster.count;
                cluster.count += 1;
                let wildcards_before = cluster.wildcards;
                for i in 0..n {
                    if cluster.hashes[i] != WILDCARD && cluster.hashes[i] != tokens.hashes[i] {
                        cluster.hashes[i] = WILDCARD;
                        cluster.tokens[i] = WILDCARD_TEXT.into();
                        cluster.wildcards += 1;
                    }
                }
                let (wildcards, leaf) = (cluster.wildcards, cluster.leaf);
                if wildcards != wildcards_before && !self.live(n, wildcards) {
                    // Wildcards only grow, so it never comes back: stop searching it.
                    self.nodes[leaf as usize].clusters.retain(|&c| c != id);
                }
                return Mined {
                    id,
                    count_before,
                    total_before,
                    new: false,
                };
            }
        }
        if self.clusters.len() >= self.params.max_clusters {
            let count_before = self.overflow;
            self.overflow += 1;
            return Mined {
                id: self.overflow_id(),
                count_before,
                total_before,
                new: count_before == 0,
            };
        }
        let tokens_text: Vec<Box<str>> = (0..n)
            .map(|i| {
                if tokens.hashes[i] == WILDCARD {
                    WILDCARD_TEXT.into()
                } else {
                    tokens.text(message, i).into()
                }
            })
            .collect();
        let id = self.clusters.len() as u32;
        let wildcards = tokens.hashes.iter().filter(|&&h| h == WILDCARD).count();
        let (path, leaf) = self.file(&tokens.hashes, &tokens_text);
        if self.live(n, wildcards) {
            self.nodes[leaf as usize].clusters.push(id);
        }
        self.clusters.push(Cluster {
            wildcards,
            hashes: tokens.hashes.clone(),
            tokens: tokens_text,
            path,
            leaf,
            count: 1,
        });
        Mined {
            id,
            count_before: 0,
            total_before,
            new: true,
        }
    }

    /// Whether a template of `n` tokens, `wildcards` of them `<*>`, can still reach the
    /// similarity threshold: a line equals it on at most its `n − wildcards` constant tokens,
    /// and `x / n` grows with `x` in floating point too, so a template failing this fails every
    /// line [`best_match`](Self::best_match) could compare it with. Dead templates are left off
    /// their leaf's list; were one the most similar, the line would not have reached the
    /// threshold anyway, so matches are exactly those of searching every template.
    fn live(&self, n: usize, wildcards: usize) -> bool {
        n == 0 || (n - wildcards) as f64 / n as f64 >= self.params.similarity
    }

    fn node(&mut self) -> u32 {
        self.nodes.push(Node::default());
        (self.nodes.len() - 1) as u32
    }

    /// The leaf for a line, when its path exists.
    fn search(&self, hashes: &[u64]) -> Option<u32> {
        let mut node = *self.roots.get(&(hashes.len() as u32))?;
        for &h in hashes.iter().take(self.params.depth) {
            let here = &self.nodes[node as usize];
            node = if h == WILDCARD {
                here.wildcard?
            } else {
                match here.children.get(&h) {
                    Some(&child) => child,
                    None => here.wildcard?,
                }
            };
        }
        Some(node)
    }

    /// The most similar cluster of the leaf that reaches the threshold (only live clusters are
    /// on the leaf's list, see [`live`](Self::live)).
    fn best_match(&self, leaf: u32, hashes: &[u64]) -> Option<u32> {
        let n = hashes.len();
        let mut best: Option<(usize, usize, u32)> = None; // (equal, wildcards, id)
        for &id in &self.nodes[leaf as usize].clusters {
            let cluster = &self.clusters[id as usize];
            let equal = cluster
                .hashes
                .iter()
                .zip(hashes)
                .filter(|&(&t, &l)| t != WILDCARD && t == l)
                .count();
            let better = match best {
                None => true,
                Some((e, w, _)) => equal > e || equal == e && cluster.wildcards > w,
            };
            if better {
                best = Some((equal, cluster.wildcards, id));
            }
        }
        let (equal, _, id) = best?;
        let similarity = if n == 0 { 1.0 } else { equal as f64 / n as f64 };
        (similarity >= self.params.similarity).then_some(id)
    }

    /// Walks a new cluster's path in the tree (creating it) and returns the keys it took and
    /// the leaf it ends at; the caller lists the cluster there when it is live.
    fn file(&mut self, hashes: &[u64], tokens: &[Box<str>]) -> (Vec<Box<str>>, u32) {
        let len = hashes.len() as u32;
        let mut node = match self.roots.get(&len) {
            Some(&node) => node,
            None => {
                let node = self.node();
                self.roots.insert(len, node);
                node
            }
        };
        let mut path = Vec::with_capacity(self.params.depth.min(hashes.len()));
        for (&h, token) in hashes.iter().zip(tokens).take(self.params.depth) {
            let here = &self.nodes[node as usize];
            let named = if h == WILDCARD {
                None
            } else if let Some(&child) = here.children.get(&h) {
                Some(child)
            } else if here.children.len() < self.params.max_children {
                let child = self.node();
                self.nodes[node as usize].children.insert(h, child);
                Some(child)
            } else {
                None
            };
            node = match named {
                Some(child) => {
                    path.push(token.clone());
                    child
                }
                None => {
                    path.push(WILDCARD_TEXT.into());
                    self.wildcard_child(node)
                }
            };
        }
        (path, node)
    }

    fn wildcard_child(&mut self, node: u32) -> u32 {
        match self.nodes[node as usize].wildcard {
            Some(child) => child,
            None => {
                let child = self.node();
                self.nodes[node as usize].wildcard = Some(child);
                child
            }
        }
    }

    /// The state to store: settings, templates in id order with counts and paths.
    pub fn state(&self) -> DrainState {
        DrainState {
            params: self.params,
            templates: self
                .clusters
                .iter()
                .map(|c| TemplateState {
                    template: c.tokens.join(" "),
                    path: c.path.iter().map(|k| k.to_string()).collect(),
                    count: c.count,
                })
                .collect(),
            overflow: self.overflow,
        }
    }

    /// Rebuilds a miner from its state, refusing states it could not have written.
    pub fn from_state(state: &DrainState) -> Result<Drain, String> {
        let p = state.params;
        if !(1..=16).contains(&p.depth)
            || !(1..=100_000).contains(&p.max_children)
            || !(0.0..=1.0).contains(&p.similarity)
            || !(1..=1_000_000).contains(&p.max_clusters)
        {
            return Err(format!("drain settings out of range: {p:?}"));
        }
        if state.templates.len() > p.max_clusters {
            return Err(format!(
                "{} templates, more than max_clusters {}",
                state.templates.len(),
                p.max_clusters
            ));
        }
        let mut drain = Drain::new(p);
        drain.overflow = state.overflow;
        drain.total = state.overflow;
        for (id, t) in state.templates.iter().enumerate() {
            let tokens: Vec<Box<str>> = if t.template.is_empty() {
                Vec::new()
            } else {
                t.template.split(' ').map(Box::from).collect()
            };
            if tokens.iter().any(|t| t.is_empty())
                || tokens.len() > super::parse::MAX_TEMPLATE_TOKENS
            {
                return Err(format!("template {id}: not a template: {:?}", t.template));
            }
            if t.path.len() != p.depth.min(tokens.len()) {
                return Err(format!(
                    "template {id}: path of {} keys for {} tokens",
                    t.path.len(),
                    tokens.len()
                ));
            }
            let hashes: Vec<u64> = tokens.iter().map(|t| token_hash(t.as_bytes())).collect();
            let len = hashes.len() as u32;
            let mut node = match drain.roots.get(&len) {
                Some(&node) => node,
                None => {
                    let node = drain.node();
                    drain.roots.insert(len, node);
                    node
                }
            };
            for key in &t.path {
                node = if key == WILDCARD_TEXT {
                    drain.wildcard_child(node)
                } else {
                    let h = hash_bytes(key.as_bytes());
                    match drain.nodes[node as usize].children.get(&h) {
                        Some(&child) => child,
                        None => {
                            let child = drain.node();
                            drain.nodes[node as usize].children.insert(h, child);
                            child
                        }
                    }
                };
            }
            let wildcards = hashes.iter().filter(|&&h| h == WILDCARD).count();
            if drain.live(hashes.len(), wildcards) {
                drain.nodes[node as usize].clusters.push(id as u32);
            }
            drain.total = drain.total.saturating_add(t.count);
            drain.clusters.push(Cluster {
                wildcards,
                hashes,
                tokens,
                path: t.path.iter().map(|k| Box::from(k.as_str())).collect(),
                leaf: node,
                count: t.count,
            });
        }
        Ok(drain)
    }
}
