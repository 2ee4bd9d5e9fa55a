//! Finds where a field path sits in a JSON text, so that errors found after parsing (in
//! validation, or by serde on a value tree) can still name a line and column.

/// Line and column (both 1-based) of the value at `path` (".a.b[2].c" segments given as
/// a slice of names and indices), or of the deepest prefix of it that exists.
pub fn locate(text: &str, path: &[String]) -> Option<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut p = Parser { b: bytes, i: 0 };
    p.ws();
    let mut best = None;
    p.find(path, &mut best);
    best.map(|offset| line_col(text, offset))
}

/// The first key that appears twice in one object of a valid JSON text: its path (names and
/// indices) and the line and column of its second appearance. JSON parsers keep the last
/// value silently, which would run a scenario other than the one written.
pub fn first_duplicate_key(text: &str) -> Option<(Vec<String>, (usize, usize))> {
    let mut p = Parser { b: text.as_bytes(), i: 0 };
    let mut path = Vec::new();
    p.duplicate(&mut path).map(|offset| (path, line_col(text, offset)))
}

/// The text with its `//` and `/* */` comments (JSON with comments, as editors write it) turned
/// into spaces, one per character, line breaks kept: every line and column stays where it
/// was, so errors still point into the file as written. Text inside strings is left alone.
pub fn blank_comments(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.contains('/') {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    let (mut in_string, mut escaped) = (false, false);
    while let Some(c) = chars.next() {
        if in_string {
            out.push(c);
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match (c, chars.peek()) {
            ('"', _) => {
                in_string = true;
                out.push(c);
            }
            ('/', Some('/')) => {
                out.push(' ');
                while let Some(&next) = chars.peek() {
                    if next == '\n' {
                        break;
                    }
                    out.push(if next == '\r' { next } else { ' ' });
                    chars.next();
                }
            }
            ('/', Some('*')) => {
                out.push(' ');
                let mut last = ' ';
                for next in chars.by_ref() {
                    out.push(if next == '\n' || next == '\r' { next } else { ' ' });
                    if last == '*' && next == '/' {
                        break;
                    }
                    last = next;
                }
            }
            _ => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rfind('\n').map_or(before.chars().count(), |nl| before[nl + 1..].chars().count()) + 1;
    (line, col)
}

struct Parser<'a> {
    b: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn ws(&mut self) {
        while self.i < self.b.len() && self.b[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }

    /// The string at the cursor, unescaped: `"a\u005fb"` is the key `a_b`, as the parser sees it.
    fn string(&mut self) -> Option<String> {
        if self.b.get(self.i) != Some(&b'"') {
            return None;
        }
        let open = self.i;
        self.i += 1;
        let mut escaped = false;
        while self.i < self.b.len() {
            match self.b[self.i] {
                b'\\' => {
                    escaped = true;
                    self.i += 2;
                }
                b'"' => {
                    self.i += 1;
                    let raw = &self.b[open..self.i];
                    return if escaped {
                        serde_json::from_slice(raw).ok()
                    } else {
                        Some(String::from_utf8_lossy(&raw[1..raw.len() - 1]).into_owned())
                    };
                }
                _ => self.i += 1,
            }
        }
        None
    }

    /// Skips one value; false if the text is malformed.
    fn skip(&mut self) -> bool {
        self.ws();
        match self.b.get(self.i) {
            Some(b'{') | Some(b'[') => {
                let mut depth = 0usize;
                while self.i < self.b.len() {
                    match self.b[self.i] {
                        b'"' => {
                            if self.string().is_none() {
                                return false;
                            }
                            continue;
                        }
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => {
                            depth -= 1;
                            if depth == 0 {
                                self.i += 1;
                                return true;
                            }
                        }
                        _ => {}
                    }
                    self.i += 1;
                }
                false
            }
            Some(b'"') => self.string().is_some(),
            Some(_) => {
                while self.i < self.b.len()
                    && !matches!(self.b[self.i], b',' | b'}' | b']')
                    && !self.b[self.i].is_ascii_whitespace()
                {
                    self.i += 1;
                }
                true
            }
            None => false,
        }
    }

    /// Walks the value at the cursor; on the first repeated key, leaves its path in `path` and
    /// returns its offset.
    fn duplicate(&mut self, path: &mut Vec<String>) -> Option<usize> {
        self.ws();
        let close = match self.b.get(self.i) {
            Some(b'{') => b'}',
            Some(b'[') => b']',
            _ => {
                self.skip();
                return None;
            }
        };
        self.i += 1;
        // A set, not a list: an object of 40,000 keys is checked in linear time.
        let mut keys: std::collections::BTreeSet<String> = Default::default();
        let mut n = 0usize;
        loop {
            self.ws();
            match self.b.get(self.i) {
                None => return None,
                Some(&c) if c == close => {
                    self.i += 1;
                    return None;
                }
                Some(b',') => {
                    self.i += 1;
                    continue;
                }
                _ => {}
            }
            let segment = if close == b'}' {
                let key_at = self.i;
                let key = self.string()?;
                self.ws();
                self.i += 1; // the ':'
                if !keys.insert(key.clone()) {
                    path.push(key);
                    return Some(key_at);
                }
                key
            } else {
                n += 1;
                (n - 1).to_string()
            };
            path.push(segment);
            if let Some(at) = self.duplicate(path) {
                return Some(at);
            }
            path.pop();
        }
    }

    /// Descends along `path` from the value at the cursor, recording the offset of each level
    /// reached (the member's key for objects, the element for arrays).
    fn find(&mut self, path: &[String], best: &mut Option<usize>) {
        self.ws();
        let Some(seg) = path.first() else { return };
        match self.b.get(self.i) {
            Some(b'{') => {
                self.i += 1;
                loop {
                    self.ws();
                    if self.b.get(self.i) == Some(&b'}') {
                        return;
                    }
                    let key_at = self.i;
                    let Some(key) = self.string() else { return };
                    self.ws();
                    if self.b.get(self.i) != Some(&b':') {
                        return;
                    }
                    self.i += 1;
                    if key == *seg {
                        *best = Some(key_at);
                        self.find(&path[1..], best);
                        return;
                    }
                    if !self.skip() {
                        return;
                    }
                    self.ws();
                    if self.b.get(self.i) == Some(&b',') {
                        self.i += 1;
                    }
                }
            }
            Some(b'[') => {
                let Ok(want) = seg.parse::<usize>() else { return };
                self.i += 1;
                let mut n = 0;
                loop {
                    self.ws();
                    if self.b.get(self.i) == Some(&b']') {
                        return;
                    }
                    if n == want {
                        *best = Some(self.i);
                        self.find(&path[1..], best);
                        return;
                    }
                    if !self.skip() {
                        return;
                    }
                    self.ws();
                    if self.b.get(self.i) == Some(&b',') {
                        self.i += 1;
                    }
                    n += 1;
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn finds_the_first_repeated_key_at_any_depth() {
        assert_eq!(super::first_duplicate_key(r#"{"a": {"b": [1, {"c": 1}]}, "d": 2}"#), None);
        let (path, at) = super::first_duplicate_key("{\"a\": [{\"b\": 1,\n \"b\": 2}]}").expect("a duplicate");
        assert_eq!((path, at), (vec!["a".to_string(), "0".into(), "b".into()], (2, 2)));
        assert_eq!(super::first_duplicate_key(r#"{"x": "}", "x": 1}"#).map(|d| d.0), Some(vec!["x".to_string()]));
        // The parser unescapes keys, so a spelling with an escape is the same key.
        let escaped = super::first_duplicate_key(r#"{"duration_ms": 50, "duration\u005fms": 5}"#);
        assert_eq!(escaped.map(|d| d.0), Some(vec!["duration_ms".to_string()]));
        assert_eq!(super::first_duplicate_key(r#"{"a\"b": 1, "a\"c": 2}"#), None);
    }

    use super::*;

    fn p(s: &str) -> Vec<String> {
        s.split('.').map(String::from).collect()
    }

    #[test]
    fn finds_nested_members_and_elements() {
        let text = "{\n  \"a\": {\"b\": [1, {\"c\": \"x\"}]},\n  \"d\": 2\n}";
        assert_eq!(locate(text, &p("d")), Some((3, 3)));
        assert_eq!(locate(text, &p("a.b.1.c")), Some((2, 19)));
        assert_eq!(locate(text, &p("a.b.1.zz")), Some((2, 18)), "deepest existing prefix");
        assert_eq!(locate(text, &p("nope")), None);
    }
}
