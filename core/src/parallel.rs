//! Work spread over the machine's cores natively, and run on the calling thread on wasm32 (a
//! browser worker has no threads). Every helper returns results in input order, so what runs in
//! parallel gives the same bytes as what runs in sequence.

/// How many pieces work is split into: the machine's cores (at most 8) natively, 1 on wasm32.
pub fn threads() -> usize {
    #[cfg(not(target_arch = "wasm32"))]
    {
        std::thread::available_parallelism().map_or(1, |n| n.get().min(8))
    }
    #[cfg(target_arch = "wasm32")]
    {
        1
    }
}

/// `f` applied to every item, the items on threads of their own (the last on the calling
/// thread); the results in item order. A panic in `f` is raised again here.
pub fn map<T: Send, R: Send>(items: Vec<T>, f: impl Fn(T) -> R + Sync) -> Vec<R> {
    #[cfg(not(target_arch = "wasm32"))]
    if items.len() > 1 {
        let f = &f;
        return std::thread::scope(|scope| {
            let mut items = items;
            let last = items.pop();
            let handles: Vec<_> = items
                .into_iter()
                .map(|item| scope.spawn(move || f(item)))
                .collect();
            let last = last.map(f);
            let mut results: Vec<R> = handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
                .collect();
            results.extend(last);
            results
        });
    }
    items.into_iter().map(f).collect()
}

/// `a()` and `b()` at the same time (`a` on a thread of its own); both results.
pub fn join<A: Send, B: Send>(
    a: impl FnOnce() -> A + Send,
    b: impl FnOnce() -> B + Send,
) -> (A, B) {
    #[cfg(not(target_arch = "wasm32"))]
    {
        std::thread::scope(|scope| {
            let a = scope.spawn(a);
            let b = b();
            (a.join().unwrap_or_else(|p| std::panic::resume_unwind(p)), b)
        })
    }
    #[cfg(target_arch = "wasm32")]
    {
        (a(), b())
    }
}

/// `bytes` cut into about `pieces` parts of similar size, each cut just after a `\n`, so no line
/// is split; the parts together are `bytes`. Fewer parts for short inputs, none for empty ones.
pub fn split_lines(bytes: &[u8], pieces: usize) -> Vec<&[u8]> {
    /// Parts smaller than this are not worth a thread.
    const MIN_PART: usize = 1 << 20;
    let pieces = pieces.clamp(1, bytes.len().div_ceil(MIN_PART).max(1));
    let mut parts = Vec::with_capacity(pieces);
    let mut rest = bytes;
    for k in (1..=pieces).rev() {
        if rest.is_empty() {
            break;
        }
        let target = rest.len() / k;
        let cut = if k == 1 {
            rest.len()
        } else {
            memchr::memchr(b'\n', &rest[target..]).map_or(rest.len(), |i| target + i + 1)
        };
        let (part, tail) = rest.split_at(cut);
        parts.push(part);
        rest = tail;
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_lines_cuts_after_newlines_and_keeps_every_byte() {
        let mut text = Vec::new();
        for i in 0..300_000 {
            text.extend_from_slice(format!("{i},{}\n", i * 7).as_bytes());
        }
        text.extend_from_slice(b"last line without newline");
        for pieces in [1, 2, 3, 8] {
            let parts = split_lines(&text, pieces);
            assert!(parts.len() <= pieces && !parts.is_empty());
            assert_eq!(parts.concat(), text);
            for part in &parts[..parts.len() - 1] {
                assert_eq!(part.last(), Some(&b'\n'));
            }
        }
        assert!(split_lines(b"", 4).is_empty());
        assert_eq!(split_lines(b"a\nb", 4), vec![&b"a\nb"[..]]);
    }

    #[test]
    fn map_and_join_keep_order() {
        let squares = map((0..10u64).collect(), |i| i * i);
        assert_eq!(squares, (0..10u64).map(|i| i * i).collect::<Vec<_>>());
        assert_eq!(join(|| 1, || "two"), (1, "two"));
    }
}
