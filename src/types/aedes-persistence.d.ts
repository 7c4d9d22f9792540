declare module 'aedes-persistence/asyncPersistence.js' {
  import type { Brokers, Client, Subscription } from 'aedes';
  import type { Readable } from 'node:stream';

  /** aedes' in-memory persistence (aedes-persistence's asyncPersistence.js): what we use of it. */
  export default class MemoryPersistence {
    constructor(opts?: object);
    setup(broker: unknown): Promise<void>;
    storeRetained(packet: { topic: string; payload: Buffer }): Promise<void>;
    createRetainedStream(pattern: string): Readable;
    createRetainedStreamCombi(patterns: string[]): Readable;
    addSubscriptions(client: Client, subs: Subscription[]): Promise<void>;
    removeSubscriptions(client: Client, topics: string[]): Promise<void>;
    cleanSubscriptions(client: Client): Promise<void>;
    outgoingEnqueue(sub: { clientId: string }, packet: object): Promise<void>;
    outgoingEnqueueCombi(subs: { clientId: string }[], packet: object): Promise<void>;
    outgoingUpdate(client: Client, packet: object): Promise<void>;
    outgoingClearMessageId(client: Client, packet: object): Promise<unknown>;
    outgoingStream(client: Client): Readable;
    incomingStorePacket(client: Client, packet: object): Promise<void>;
    incomingDelPacket(client: Client, packet: object): Promise<void>;
    cleanIncoming(client: Client): Promise<void>;
    putWill(client: Client, packet: object): Promise<void>;
    delWill(client: Client): Promise<unknown>;
    streamWill(brokers?: Brokers): Readable;
  }
}
