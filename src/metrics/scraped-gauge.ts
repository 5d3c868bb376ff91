import { Gauge, type Registry } from 'prom-client';

/** A gauge whose series are all set afresh at each scrape: what no longer exists vanishes from it. */
export function scrapedGauge(r: Registry, name: string, help: string, label: string, collect: (set: (labelValue: string, value: number) => void) => void): void {
  new Gauge({
    name,
    help,
    labelNames: [label],
    registers: [r],
    collect() {
      this.reset();
      collect((v, n) => this.set({ [label]: v }, n));
    },
  });
}
