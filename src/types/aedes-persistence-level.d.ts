declare module 'aedes-persistence-level' {
  /** A LevelDB-backed aedes persistence (callback + promise API); takes an open `level` db. */
  export default function aedesPersistenceLevel(db: object): {
    setup(broker: unknown): Promise<void>;
  };
}
