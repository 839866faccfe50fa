// Values test/support/globalSetup.ts hands to integration tests through `inject()`.
declare module 'vitest' {
  export interface ProvidedContext {
    /** URL of the test database, migrated; other databases on its server are free for scratch use. */
    databaseUrl: string;
    /** URL of a Redis that answered PING. */
    redisUrl: string;
  }
}

export {};
