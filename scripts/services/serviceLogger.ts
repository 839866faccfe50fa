/** Where service start-up messages go; `console` and a pino logger both fit. */
export interface ServiceLogger {
  info(message: string): void;
  warn(message: string): void;
}

/** A service this process found or started, at the URL it actually answers on. */
export interface EnsuredService {
  /** The URL to use; its port may differ from the one asked for when that port was taken. */
  url: string;
  /** True when this process started the service (and so `stop` will stop it). */
  started: boolean;
  /** Stops the service if this process started it; otherwise does nothing. */
  stop(): Promise<void>;
}
