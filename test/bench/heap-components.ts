import { readFileSync } from 'node:fs';

/**
 * What holds the agent's V8 heap, from a heap snapshot (the .heapsnapshot JSON V8 writes):
 * the bytes each component retains (what would be freed if its objects were gone), the
 * self sizes summed by node type and by constructor. A component is the set of objects
 * whose constructor is one of its classes; its retained set is every object reachable
 * from the snapshot's root only through that set (weak edges do not retain). Components
 * are attributed in the order given, each taking only what an earlier one did not: list
 * the leaves (sessions, the tracker) before what composes them (the broker, the agent).
 */

export interface Component {
  label: string;
  /** Constructor names as the snapshot records them (class names). */
  classes: readonly string[];
  /** When set, an object only counts if it has a property of this name (two `Client`s). */
  withProperty?: string;
}

export interface HeapBreakdown {
  /** Sum of every node's self size. */
  totalBytes: number;
  /** ArrayBuffer and WebAssembly backing stores (type native): outside the V8 heap. */
  offHeapBytes: number;
  components: { label: string; bytes: number; objects: number }[];
  /** JS-heap bytes of no component: code, shapes, builtins, module state. */
  restBytes: number;
  byType: { type: string; bytes: number }[];
  byConstructor: { name: string; bytes: number; count: number }[];
}

interface Snapshot {
  snapshot: {
    meta: {
      node_fields: string[];
      node_types: [string[], ...unknown[]];
      edge_fields: string[];
      edge_types: [string[], ...unknown[]];
    };
  };
  nodes: number[];
  edges: number[];
  strings: string[];
}

class Graph {
  readonly count: number;
  readonly type: Uint8Array;
  readonly name: Uint32Array;
  readonly size: Float64Array;
  /** Index of each node's first edge; firstEdge[count] = edge total. */
  readonly firstEdge: Uint32Array;
  readonly edgeTo: Uint32Array;
  readonly edgeWeak: Uint8Array;
  readonly edgeName: Int32Array;
  readonly types: string[];
  readonly strings: string[];

  constructor(s: Snapshot) {
    const m = s.snapshot.meta;
    const nf = m.node_fields.length;
    const ef = m.edge_fields.length;
    const [iType, iName, iSize, iEdges] = ['type', 'name', 'self_size', 'edge_count'].map((f) =>
      m.node_fields.indexOf(f),
    ) as [number, number, number, number];
    const [eType, eName, eTo] = ['type', 'name_or_index', 'to_node'].map((f) =>
      m.edge_fields.indexOf(f),
    ) as [number, number, number];
    this.types = m.node_types[0];
    this.strings = s.strings;
    this.count = s.nodes.length / nf;
    this.type = new Uint8Array(this.count);
    this.name = new Uint32Array(this.count);
    this.size = new Float64Array(this.count);
    this.firstEdge = new Uint32Array(this.count + 1);
    let e = 0;
    for (let i = 0; i < this.count; i++) {
      const o = i * nf;
      this.type[i] = s.nodes[o + iType]!;
      this.name[i] = s.nodes[o + iName]!;
      this.size[i] = s.nodes[o + iSize]!;
      this.firstEdge[i] = e;
      e += s.nodes[o + iEdges]!;
    }
    this.firstEdge[this.count] = e;
    const edgeTypes = m.edge_types[0];
    const weak = edgeTypes.indexOf('weak');
    const named = new Set(['context', 'property', 'internal', 'shortcut', 'weak']);
    this.edgeTo = new Uint32Array(e);
    this.edgeWeak = new Uint8Array(e);
    this.edgeName = new Int32Array(e);
    for (let j = 0; j < e; j++) {
      const o = j * ef;
      const t = s.edges[o + eType]!;
      this.edgeTo[j] = s.edges[o + eTo]! / nf;
      this.edgeWeak[j] = t === weak ? 1 : 0;
      this.edgeName[j] = named.has(edgeTypes[t]!) ? s.edges[o + eName]! : -1;
    }
  }

  nameOf(i: number): string {
    return this.strings[this.name[i]!]!;
  }

  hasProperty(i: number, prop: string): boolean {
    for (let j = this.firstEdge[i]!; j < this.firstEdge[i + 1]!; j++) {
      const n = this.edgeName[j]!;
      if (n >= 0 && this.strings[n] === prop) return true;
    }
    return false;
  }

  /** Marks every node reachable from the root (node 0) without entering `blocked`. */
  reach(blocked: Uint8Array): Uint8Array {
    const seen = new Uint8Array(this.count);
    const stack: number[] = [0];
    seen[0] = 1;
    while (stack.length > 0) {
      const i = stack.pop()!;
      for (let j = this.firstEdge[i]!; j < this.firstEdge[i + 1]!; j++) {
        const to = this.edgeTo[j]!;
        if (this.edgeWeak[j] || seen[to] || blocked[to]) continue;
        seen[to] = 1;
        stack.push(to);
      }
    }
    return seen;
  }
}

export function analyseHeapSnapshot(file: string, components: readonly Component[]): HeapBreakdown {
  const g = new Graph(JSON.parse(readFileSync(file, 'utf8')) as Snapshot);
  const native = g.types.indexOf('native');
  const object = g.types.indexOf('object');
  const none = new Uint8Array(g.count);
  const live = g.reach(none);
  const taken = new Uint8Array(g.count);
  const out: HeapBreakdown['components'] = [];
  for (const c of components) {
    const blocked = new Uint8Array(g.count);
    // The bundle (scripts/bundle.mjs) may name a class `_Name` (a class with private fields
    // becomes `Name = class _Name`) or `Name2` (two modules' `Name`s in one scope).
    const wanted = new Set(c.classes);
    const names = new Set<number>();
    g.strings.forEach((s, n) => {
      if (wanted.has(s.replace(/^_/, '').replace(/\d+$/, ''))) names.add(n);
    });
    let objects = 0;
    for (let i = 0; i < g.count; i++) {
      if (!names.has(g.name[i]!) || g.type[i] !== object) continue;
      if (c.withProperty !== undefined && !g.hasProperty(i, c.withProperty)) continue;
      blocked[i] = 1;
      objects++;
    }
    const without = g.reach(blocked);
    let bytes = 0;
    for (let i = 0; i < g.count; i++) {
      if (!live[i] || without[i] || taken[i] || g.type[i] === native) continue;
      taken[i] = 1;
      bytes += g.size[i]!;
    }
    out.push({ label: c.label, bytes, objects });
  }
  let totalBytes = 0;
  let offHeapBytes = 0;
  let restBytes = 0;
  const byType = new Map<string, number>();
  const byCtor = new Map<string, { bytes: number; count: number }>();
  for (let i = 0; i < g.count; i++) {
    const size = g.size[i]!;
    totalBytes += size;
    const type = g.types[g.type[i]!]!;
    if (g.type[i] === native) offHeapBytes += size;
    else if (live[i] && !taken[i]) restBytes += size;
    byType.set(type, (byType.get(type) ?? 0) + size);
    if (type === 'object' || type === 'closure') {
      const k = type === 'closure' ? '(closures)' : g.nameOf(i);
      const e = byCtor.get(k) ?? { bytes: 0, count: 0 };
      e.bytes += size;
      e.count++;
      byCtor.set(k, e);
    }
  }
  return {
    totalBytes,
    offHeapBytes,
    components: out,
    restBytes,
    byType: [...byType].map(([type, bytes]) => ({ type, bytes })).sort((a, b) => b.bytes - a.bytes),
    byConstructor: [...byCtor]
      .map(([name, v]) => ({ name, ...v }))
      .sort((a, b) => b.bytes - a.bytes),
  };
}
