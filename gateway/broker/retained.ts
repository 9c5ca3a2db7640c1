/**
 * Retained messages in a topic trie, for the broker's persistence.
 *
 * Aedes' in-memory persistence finds the retained messages for a SUBSCRIBE by
 * testing every retained topic against the filter. A grid keeps several retained
 * messages per meter (status, enrolment certificate, Home Assistant discovery),
 * so with 10,000 meters each subscription scanned ~70,000 topics and the broker
 * spent most of its time there while meters (re)connected: a cost quadratic in the
 * number of meters. Walking a trie costs what the filter names: one path for an
 * exact topic, one subtree for `…/#`.
 *
 * Matching follows MQTT 3.1.1 §4.7: `+` matches exactly one level (also an empty
 * one), `#` the parent level and every level below it [MQTT-4.7.1-2], and a filter
 * starting with a wildcard never matches a topic starting with `$` [MQTT-4.7.2-1].
 */
import type { PublishPacket } from 'aedes';
import memoryModule from 'aedes-persistence';
import { Readable } from 'node:stream';

interface Node {
  children: Map<string, Node>;
  packet: PublishPacket | undefined;
}

const node = (): Node => ({ children: new Map(), packet: undefined });

export class RetainedTrie {
  private readonly root = node();
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** Keep `packet` as the retained message of its topic; an empty payload deletes it [MQTT-3.3.1-10]. */
  store(packet: PublishPacket): void {
    const levels = packet.topic.split('/');
    if (packet.payload.length === 0) return this.delete(levels);
    let n = this.root;
    for (const level of levels) {
      let next = n.children.get(level);
      if (!next) n.children.set(level, (next = node()));
      n = next;
    }
    if (!n.packet) this.count++;
    n.packet = { ...packet };
  }

  private delete(levels: string[]): void {
    const path: Node[] = [this.root];
    for (const level of levels) {
      const next = path[path.length - 1].children.get(level);
      if (!next) return;
      path.push(next);
    }
    const leaf = path[path.length - 1];
    if (!leaf.packet) return;
    leaf.packet = undefined;
    this.count--;
    // Prune the branch back to the last node still in use.
    for (let i = levels.length; i > 0; i--) {
      const n = path[i];
      if (n.packet || n.children.size) break;
      path[i - 1].children.delete(levels[i - 1]);
    }
  }

  /** Every retained message whose topic matches `filter`. */
  *match(filter: string): Generator<PublishPacket> {
    const levels = filter.split('/');
    yield* this.walk(this.root, levels, 0, true);
  }

  /** Every retained message matching any of `filters`, each once. */
  *matchAny(filters: string[]): Generator<PublishPacket> {
    if (filters.length === 1) return yield* this.match(filters[0]);
    const seen = new Set<string>();
    for (const f of filters) {
      for (const p of this.match(f)) {
        if (seen.has(p.topic)) continue;
        seen.add(p.topic);
        yield p;
      }
    }
  }

  private *walk(n: Node, levels: string[], i: number, top: boolean): Generator<PublishPacket> {
    if (i === levels.length) {
      if (n.packet) yield n.packet;
      return;
    }
    const level = levels[i];
    if (level === '#') {
      yield* this.all(n, top);
      return;
    }
    if (level === '+') {
      for (const [name, child] of n.children) {
        if (top && name.startsWith('$')) continue;
        yield* this.walk(child, levels, i + 1, false);
      }
      return;
    }
    const child = n.children.get(level);
    if (child) yield* this.walk(child, levels, i + 1, false);
  }

  /** `n` itself (the parent level of a `#`) and everything below it. */
  private *all(n: Node, top: boolean): Generator<PublishPacket> {
    if (n.packet && !top) yield n.packet;
    for (const [name, child] of n.children) {
      if (top && name.startsWith('$')) continue;
      yield* this.all(child, false);
    }
  }
}

/** The parts of an Aedes persistence that hold retained messages. */
export interface RetainedStore {
  storeRetained(packet: PublishPacket): Promise<void>;
  createRetainedStream(pattern: string): Readable;
  createRetainedStreamCombi(patterns: string[]): Readable;
}

/**
 * Aedes' memory persistence with its retained messages moved into a RetainedTrie;
 * subscriptions, wills and QoS queues stay as Aedes keeps them.
 */
export function memoryPersistenceWithRetainedTrie(): { persistence: RetainedStore; retained: RetainedTrie } {
  // A CommonJS module whose function is module.exports (its types call it the default export).
  const memory = memoryModule as unknown as () => RetainedStore;
  const persistence = memory();
  const retained = new RetainedTrie();
  persistence.storeRetained = async (packet) => retained.store(packet);
  persistence.createRetainedStream = (pattern) => Readable.from(retained.match(pattern));
  persistence.createRetainedStreamCombi = (patterns) => Readable.from(retained.matchAny(patterns));
  return { persistence, retained };
}
