#!/usr/bin/env python3
"""Checks the layout rules of the workspace and fails on any breach.

1. No import cycle between the modules of a crate. A module is a file (`a/b.rs` or
   `a/b/mod.rs` is `a::b`), found by following `mod` declarations from each crate root
   (`lib.rs`, `main.rs`, `bin/*.rs`, integration tests). An edge A -> B is any path in A's
   non-test code that names B or an item of B: `use` lines (brace groups expanded, `pub use`
   re-exports included) and inline paths, starting with `crate::`, `super::`, `self::` or a
   child module's name. Code under `#[cfg(test)]` (attributes on items, test modules and the
   files they pull in) is left out.
2. No `.rs` file over MAX_LINES lines (test files included), unless the allow-list names it
   with a reason.

Functions over FUNCTION_NOTE lines in non-test code are listed as notes (they do not fail).

Usage: check_layout.py [workspace root]   (exit status 1 on any breach)
"""

import os
import re
import sys

MAX_LINES = 400
FUNCTION_NOTE = 60
CRATES = ["core", "tunnel", "proxy", "controller", "tests"]
ALLOW_FILE = "scripts/layout-allow.txt"
SKIP_DIRS = {"target", "node_modules", ".tools", ".git"}

IDENT = r"[A-Za-z_][A-Za-z0-9_]*"


def strip_comments_and_strings(text):
    """Blanks comments and string/char literals, keeping line structure."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif text.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if text.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif text.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif c == "r" and re.match(r'r#*"', text[i:i + 10]) and (i == 0 or not re.match(r"\w", text[i - 1])):
            m = re.match(r'r(#*)"', text[i:])
            end = text.find('"' + m.group(1), i + len(m.group(0)))
            end = n if end < 0 else end + 1 + len(m.group(1))
            out.append('""' + re.sub(r"[^\n]", " ", text[i + 2:end]))
            i = end
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append('"' + re.sub(r"[^\n]", " ", text[i + 1:j]) + '"')
            i = j + 1
        elif c == "'":
            # A char literal ('a', '\n', '\u{..}'), not a lifetime ('a).
            m = re.match(r"'(\\u\{[0-9a-fA-F]+\}|\\.|[^\\'])'", text[i:])
            if m:
                out.append(" " * len(m.group(0)))
                i += len(m.group(0))
            else:
                out.append(c)
                i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def item_end(code, start):
    """End offset of the item starting at `start`: its matching `}` or its `;`."""
    depth = 0
    i = start
    while i < len(code):
        c = code[i]
        if c in "([":
            depth += 1
        elif c in ")]":
            depth -= 1
        elif c == "{":
            j, d = i, 0
            while j < len(code):
                if code[j] == "{":
                    d += 1
                elif code[j] == "}":
                    d -= 1
                    if d == 0:
                        return j + 1
                j += 1
            return len(code)
        elif c == ";" and depth == 0:
            return i + 1
        i += 1
    return len(code)


ATTR_RE = re.compile(r"#\[\s*cfg\s*\(\s*test\s*\)\s*\]")


def remove_test_code(code):
    """Blanks every item carrying `#[cfg(test)]` (keeps line numbers)."""
    chars = list(code)
    for m in ATTR_RE.finditer(code):
        i = m.end()
        # Further attributes between #[cfg(test)] and the item.
        while True:
            while i < len(code) and code[i].isspace():
                i += 1
            if code.startswith("#[", i):
                i = item_end_attr(code, i)
            else:
                break
        end = item_end(code, i)
        for k in range(m.start(), end):
            if chars[k] != "\n":
                chars[k] = " "
    return "".join(chars)


def item_end_attr(code, i):
    depth = 0
    while i < len(code):
        if code[i] == "[":
            depth += 1
        elif code[i] == "]":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return i


MOD_RE = re.compile(
    r"((?:#\[[^\]]*\]\s*)*)(?:pub(?:\([^)]*\))?\s+)?mod\s+(" + IDENT + r")\s*([;{])"
)


class Module:
    def __init__(self, path, file, test):
        self.path = path  # tuple of names from the crate root
        self.file = file
        self.test = test
        self.children = {}  # name -> Module
        self.code = ""


def parse_crate(root_file, crate_name):
    """Builds the module tree reachable from a crate root."""
    modules = {}

    def visit(path, file, test, is_dir_owner):
        mod = Module(path, file, test)
        modules[path] = mod
        with open(file, encoding="utf-8") as f:
            raw = f.read()
        code = strip_comments_and_strings(raw)
        mod.raw = raw
        base = os.path.dirname(file) if is_dir_owner else os.path.splitext(file)[0]
        for m in MOD_RE.finditer(code):
            attrs, name, term = m.group(1), m.group(2), m.group(3)
            if term != ";":
                continue
            child_test = test or bool(ATTR_RE.search(attrs))
            pm = re.search(r'path\s*=\s*"([^"]*)"', raw[m.start():m.end()])
            if pm:
                # `#[path]` is relative to the directory of the declaring file.
                target = os.path.join(os.path.dirname(file), pm.group(1))
                owner = os.path.basename(target) == "mod.rs"
            else:
                a = os.path.join(base, name + ".rs")
                b = os.path.join(base, name, "mod.rs")
                if os.path.exists(a):
                    target, owner = a, False
                elif os.path.exists(b):
                    target, owner = b, True
                else:
                    continue
            child = visit(path + (name,), target, child_test, owner)
            mod.children[name] = child
        mod.code = remove_test_code(code)
        return mod

    visit((), root_file, False, True)
    return modules


USE_RE = re.compile(r"\b(pub(?:\([^)]*\))?\s+)?use\s+([^;]*);")


def expand_use(tree):
    """Expands `a::{b, c::{d, e}}` into paths."""
    tree = re.sub(r"\s+as\s+" + IDENT, "", tree)
    tree = re.sub(r"\s+", "", tree)

    def split_top(s):
        parts, depth, cur = [], 0, ""
        for ch in s:
            if ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
            if ch == "," and depth == 0:
                parts.append(cur)
                cur = ""
            else:
                cur += ch
        if cur:
            parts.append(cur)
        return parts

    def rec(prefix, s):
        i = s.find("{")
        if i < 0:
            return [prefix + s]
        head = s[:i]
        inner = s[i + 1:s.rfind("}")]
        out = []
        for part in split_top(inner):
            out.extend(rec(prefix + head, part))
        return out

    paths = []
    for p in rec("", tree):
        paths.append([seg for seg in p.split("::") if seg])
    return paths


def resolve(modules, current, segs):
    """The module a path names (its longest module prefix), or None."""
    if not segs:
        return None
    mod = modules[current]
    first = segs[0]
    if first == "crate":
        node, rest = modules[()], segs[1:]
    elif first in ("super", "self"):
        node = mod
        rest = segs
        while rest and rest[0] in ("super", "self"):
            if rest[0] == "super":
                if not node.path:
                    return None
                node = modules[node.path[:-1]]
            rest = rest[1:]
    elif first in mod.children:
        node, rest = mod, segs
    else:
        return None
    for seg in rest:
        if seg in node.children:
            node = node.children[seg]
        else:
            break
    return node.path


def edges_of(modules, mod):
    out = set()
    code = mod.code
    spans = []
    for m in USE_RE.finditer(code):
        spans.append((m.start(), m.end()))
        for segs in expand_use(m.group(2)):
            target = resolve(modules, mod.path, segs)
            if target is not None and target != mod.path:
                out.add(target)
    rest = list(code)
    for s, e in spans:
        for k in range(s, e):
            if rest[k] != "\n":
                rest[k] = " "
    rest = "".join(rest)
    heads = ["crate", "super", "self"] + list(mod.children)
    inline = re.compile(r"(?<![\w:])((?:" + "|".join(map(re.escape, heads)) + r")(?:::" + IDENT + r")+)")
    for m in inline.finditer(rest):
        segs = m.group(1).split("::")
        target = resolve(modules, mod.path, segs)
        if target is not None and target != mod.path:
            out.add(target)
    return out


def find_cycles(graph):
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]
    sys.setrecursionlimit(10000)

    def strong(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            strong(v)
    return out


FN_RE = re.compile(r"\bfn\s+(" + IDENT + r")")


def long_functions(mod):
    code = mod.code
    out = []
    for m in FN_RE.finditer(code):
        # Test functions of integration tests (`#[test]`, `#[tokio::test]`) are not counted.
        before = code[max(0, m.start() - 300):m.start()]
        if re.search(r"#\[\s*(?:tokio::)?test\b[^\]]*\]\s*(?:#\[[^\]]*\]\s*)*(?:pub\s+)?(?:async\s+)?$", before):
            continue
        # The body starts at the first `{` after the signature (skip `;`: trait declarations).
        i = m.end()
        depth = 0
        while i < len(code) and not (code[i] == "{" and depth == 0) and code[i] != ";":
            if code[i] in "(<[":
                depth += 1
            elif code[i] in ")>]":
                depth = max(0, depth - 1)
            i += 1
        if i >= len(code) or code[i] == ";":
            continue
        end = item_end(code, i)
        first = code.count("\n", 0, m.start()) + 1
        last = code.count("\n", 0, end) + 1
        if last - first + 1 > FUNCTION_NOTE:
            out.append((first, m.group(1), last - first + 1))
    return out


def crate_roots(crate_dir):
    roots = []
    src = os.path.join(crate_dir, "src")
    for name in ("lib.rs", "main.rs"):
        if os.path.exists(os.path.join(src, name)):
            roots.append(os.path.join(src, name))
    for sub in ("src/bin", "tests", "benches", "examples", "fuzz/fuzz_targets"):
        d = os.path.join(crate_dir, sub)
        if os.path.isdir(d):
            for f in sorted(os.listdir(d)):
                if f.endswith(".rs"):
                    roots.append(os.path.join(d, f))
    return roots


def main():
    root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), ".."))
    failures = 0
    allowed = {}
    allow_path = os.path.join(root, ALLOW_FILE)
    if os.path.exists(allow_path):
        for line in open(allow_path, encoding="utf-8"):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            path, _, reason = line.partition(" ")
            if not reason.strip():
                print(f"{ALLOW_FILE}: {path}: a reason is required")
                failures += 1
            allowed[path] = reason.strip()

    print("== module import cycles")
    notes = []
    for crate in CRATES:
        crate_dir = os.path.join(root, crate)
        if not os.path.isdir(crate_dir):
            continue
        for root_file in crate_roots(crate_dir):
            modules = parse_crate(root_file, crate)
            graph = {}
            for path, mod in modules.items():
                if mod.test:
                    continue
                graph[path] = {t for t in edges_of(modules, mod) if not modules[t].test}
                rel = os.path.relpath(mod.file, root)
                notes.extend((rel, line, name, n) for line, name, n in long_functions(mod))
            label = os.path.relpath(root_file, root)
            for comp in find_cycles(graph):
                failures += 1
                names = ["::".join(p) or "crate" for p in comp]
                print(f"{label}: cycle of {len(comp)} modules: {' '.join(names)}")
                for a in comp:
                    for b in sorted(graph[a]):
                        if b in comp:
                            print(f"    {'::'.join(a) or 'crate'} -> {'::'.join(b) or 'crate'}")
    print("== files over %d lines" % MAX_LINES)
    for crate in CRATES:
        for dirpath, dirnames, filenames in os.walk(os.path.join(root, crate)):
            dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
            for f in sorted(filenames):
                if not f.endswith(".rs"):
                    continue
                path = os.path.join(dirpath, f)
                rel = os.path.relpath(path, root)
                with open(path, encoding="utf-8") as fh:
                    lines = sum(1 for _ in fh)
                if lines > MAX_LINES:
                    if rel in allowed:
                        print(f"{rel}: {lines} lines (allowed: {allowed[rel]})")
                    else:
                        failures += 1
                        print(f"{rel}: {lines} lines")
    for rel in sorted(allowed):
        if not os.path.exists(os.path.join(root, rel)):
            print(f"{ALLOW_FILE}: {rel} does not exist (remove it from the list)")
            failures += 1
    if notes:
        print("== note: functions over %d lines (non-test code)" % FUNCTION_NOTE)
        for rel, line, name, n in sorted(set(notes)):
            print(f"{rel}:{line} {name}: {n} lines")
    if failures:
        print(f"layout check failed: {failures} problem(s)")
        return 1
    print("layout check passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
