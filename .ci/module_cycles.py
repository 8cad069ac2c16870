#!/usr/bin/env python3
"""Module-level import graph of a crate's src/: prints any cycle (and with -v every edge) and
exits 1 if there is one. A module's uses of its own ancestors (`use super::x` inside a child
of x) are not edges. Usage: module_cycles.py CRATE/src [-v]"""
import os, re, sys

src = sys.argv[1]
mods = {}
for root, _, files in os.walk(src):
    for f in files:
        if not f.endswith('.rs'):
            continue
        path = os.path.join(root, f)
        rel = os.path.relpath(path, src)[:-3].split(os.sep)
        if rel[-1] in ('mod', 'lib', 'main'):
            rel = rel[:-1]
        mods[tuple(rel)] = path

def expand(tree):
    """Flattens a use tree `a::{b, c::{d}}` into paths."""
    tree = tree.strip()
    m = re.match(r'^(.*?)\{(.*)\}$', tree, re.S)
    if not m:
        return [tree.split(' as ')[0].strip()]
    prefix, inner = m.group(1), m.group(2)
    parts, depth, cur = [], 0, ''
    for ch in inner:
        if ch == ',' and depth == 0:
            parts.append(cur); cur = ''
            continue
        depth += ch == '{'
        depth -= ch == '}'
        cur += ch
    parts.append(cur)
    out = []
    for p in parts:
        if p.strip():
            out += [prefix + q for q in expand(p)]
    return out

def resolve(me, path):
    segs = [s for s in path.split('::') if s]
    if not segs:
        return None
    if segs[0] == 'crate':
        base, segs = (), segs[1:]
    elif segs[0] == 'super':
        base = me
        while segs and segs[0] == 'super':
            base = base[:-1]; segs = segs[1:]
    elif segs[0] == 'self':
        base, segs = me, segs[1:]
    elif (me + (segs[0],)) in mods:
        base = me
    else:
        return None
    best = base
    cur = base
    for s in segs:
        cur = cur + (s,)
        if cur in mods:
            best = cur
        else:
            break
    return best

edges = set()
for me, path in mods.items():
    text = open(path).read()
    text = re.sub(r'(?m)//.*$', '', text)
    # drop test modules' bodies is hard; keep them (tests count too)
    for m in re.finditer(r'\buse\s+([^;]+);', text):
        for p in expand(m.group(1)):
            t = resolve(me, p)
            if t is not None and t != me:
                edges.add((me, t))
    for m in re.finditer(r'\b((?:crate|super)(?:::\w+)+)', text):
        t = resolve(me, m.group(1))
        if t is not None and t != me:
            edges.add((me, t))

def is_ancestor(a, b):
    return len(a) < len(b) and b[:len(a)] == a

graph = {}
for a, b in edges:
    if is_ancestor(b, a):
        continue  # a child using its ancestor
    graph.setdefault(a, set()).add(b)

name = lambda m: '::'.join(m) or 'crate'
if '-v' in sys.argv:
    for a in sorted(graph):
        print(name(a), '->', ', '.join(sorted(name(b) for b in graph[a])))
# cycles: Tarjan
index, low, stack, on, sccs, counter = {}, {}, [], set(), [], [0]
def strong(v):
    index[v] = low[v] = counter[0]; counter[0] += 1
    stack.append(v); on.add(v)
    for w in graph.get(v, ()):
        if w not in index:
            strong(w); low[v] = min(low[v], low[w])
        elif w in on:
            low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        comp = []
        while True:
            w = stack.pop(); on.discard(w); comp.append(w)
            if w == v:
                break
        if len(comp) > 1:
            sccs.append(comp)
sys.setrecursionlimit(10000)
for v in list(mods):
    if v not in index:
        strong(v)
for c in sccs:
    print('cycle:', ', '.join(sorted(name(m) for m in c)))
print(f'{src}: {len(mods)} modules, {len(sccs)} cycles')
sys.exit(1 if sccs else 0)
