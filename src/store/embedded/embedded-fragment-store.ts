import type Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { promises as fsp, readdirSync, rmSync, statSync, truncateSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ParsedHeader } from '../../media/parse-events.js';
import type { TrackInfo } from '../../media/track.js';
import type { Clock } from '../../util/clock.js';
import type { Db } from '../database.js';
import type { FragmentCipher } from '../fragment-cipher.js';
import { StreamDroppedError, type FragmentQuery, type FragmentRecord, type FragmentStore, type NewFragment, type StoredTrackInfo } from '../fragment-store.js';
import { GroupCommitter } from './group-committer.js';
import { SEGMENT_MAX_AGE_MS, SEGMENT_MAX_BYTES, appendToSegment, segmentPath, streamDir, type OpenSegment } from './segment-writer.js';

type FragmentRow = {
  stream_id: number;
  fragment_number: string;
  producer_ts_ms: number;
  server_ts_ms: number;
  duration_ms: number;
  timecode: number;
  segment_id: number;
  offset: number;
  size: number;
  tags_size: number;
  track_info_id: number;
  /** Encryption at rest: the data key, nonce and tag it was sealed with; all null for bytes stored as they came. */
  data_key_id: number | null;
  enc_nonce: Buffer | null;
  enc_tag: Buffer | null;
};

/** Where a fragment's bytes are and how to open them. */
type Location = Pick<FragmentRow, 'segment_id' | 'offset' | 'size' | 'data_key_id' | 'enc_nonce' | 'enc_tag'>;
const LOCATION_SQL = 'SELECT segment_id, offset, size, data_key_id, enc_nonce, enc_tag FROM fragments WHERE stream_id = ? AND fragment_number = ?';

type Statement = Database.Statement<unknown[]>;

/** One batched read covers at most this much (a page of fragments read ahead). */
const MAX_BATCH_READ_BYTES = 16 * 1024 * 1024;

/** Segment files kept open for reads; a reader mostly touches the few newest segments of a stream. */
export const MAX_OPEN_READ_HANDLES = 256;

type TrackInfoRow = { id: number; stream_id: number; hash: string; timecode_scale_ns: number; tracks_json: string; header: Buffer };
type SegmentRow = { id: number; stream_id: number; created_ms: number };
/**
 * What one append commits. A new segment's row and a new track-info row ride in the transaction of the first
 * fragment that refers to them, so no synchronous commit (and fsync) runs on the event loop per upload or roll.
 */
type CommitRow = { fragment: FragmentRow; segment: SegmentRow | null; trackInfo: TrackInfoRow | null };

const toRecord = (r: FragmentRow): FragmentRecord => ({
  streamId: r.stream_id,
  fragmentNumber: r.fragment_number,
  producerTimestampMs: r.producer_ts_ms,
  serverTimestampMs: r.server_ts_ms,
  durationMs: r.duration_ms,
  timecode: r.timecode,
  size: r.size,
  tagsSize: r.tags_size,
  trackInfoId: r.track_info_id,
});

/**
 * Embedded fragment store: per-stream append-only segment files under <dataDir>/streams/<id>/ plus the index in
 * SQLite. A fragment becomes visible (and PERSISTED) only after its bytes were fdatasync'd and its index row
 * committed; the GroupCommitter batches both across all streams so concurrent uploads share fsyncs.
 */
export class EmbeddedFragmentStore implements FragmentStore {
  readonly #db: Db;
  readonly #dataDir: string;
  readonly #clock: Clock;
  readonly #open = new Map<number, OpenSegment>();
  readonly #opening = new Map<number, Promise<unknown>>();
  /** Per stream: resolves once the latest append has handed its row to the committer. */
  readonly #enqueued = new Map<number, Promise<void>>();
  readonly #lastNumber = new Map<number, bigint>();
  /** Bytes indexed per stream, computed once and then kept up to date (the budget check runs per fragment). */
  readonly #bytesByStream = new Map<number, number>();
  readonly #committer: GroupCommitter<CommitRow>;
  #nextSegmentId: number;
  #nextTrackInfoId: number;
  /** Track infos handed out but not committed yet (they commit with their first fragment). */
  readonly #pendingTrackInfos = new Map<number, TrackInfoRow>();
  #closed = false;
  /** Prepared statements by SQL text: preparing costs more than running the small queries readers make per chunk. */
  readonly #statements = new Map<string, Statement>();
  /** Track infos never change once written; readers ask for one per chunk. */
  readonly #trackInfoCache = new Map<number, StoredTrackInfo>();
  readonly #readHandles = new Map<string, Promise<fsp.FileHandle>>();
  /** Seals fragments before they are written and opens them after reads; null: store and read bytes as they are. */
  readonly #cipher: FragmentCipher | null;
  /** What startup recovery found: segment files the index named but the disk no longer had, and their fragments. */
  readonly recovery = { lostSegments: 0, lostFragments: 0 };
  /** Streams dropped while this process runs (ids are never reused): appends still in flight for them commit nothing. */
  readonly #dropped = new Set<number>();

  constructor(db: Db, dataDir: string, clock: Clock, cipher: FragmentCipher | null = null) {
    this.#db = db;
    this.#dataDir = dataDir;
    this.#clock = clock;
    this.#cipher = cipher;
    const insert = db.prepare(
      `INSERT INTO fragments (stream_id, fragment_number, producer_ts_ms, server_ts_ms, duration_ms, timecode, segment_id, offset, size, tags_size, track_info_id, data_key_id, enc_nonce, enc_tag)
       VALUES (@stream_id, @fragment_number, @producer_ts_ms, @server_ts_ms, @duration_ms, @timecode, @segment_id, @offset, @size, @tags_size, @track_info_id, @data_key_id, @enc_nonce, @enc_tag)`,
    );
    const insertSegment = db.prepare('INSERT OR IGNORE INTO segments (id, stream_id, created_ms) VALUES (@id, @stream_id, @created_ms)');
    const insertTrackInfo = db.prepare(
      'INSERT OR IGNORE INTO track_infos (id, stream_id, hash, timecode_scale_ns, tracks_json, header) VALUES (@id, @stream_id, @hash, @timecode_scale_ns, @tracks_json, @header)',
    );
    this.#committer = new GroupCommitter((rows: CommitRow[]) => {
      db.transaction(() => {
        for (const r of rows) {
          if (r.segment !== null) {
            // Even for a dropped stream: the row is how reclaim() finds the file and deletes it.
            insertSegment.run(r.segment);
          }
          if (this.#dropped.has(r.fragment.stream_id)) {
            continue;
          }
          if (r.trackInfo !== null) {
            insertTrackInfo.run(r.trackInfo);
          }
          insert.run(r.fragment);
        }
      })();
      for (const r of rows) {
        if (r.trackInfo !== null) {
          this.#pendingTrackInfos.delete(r.trackInfo.id);
        }
      }
    });
    const maxId = (table: string): number => (db.prepare(`SELECT COALESCE(MAX(id), 0) AS n FROM ${table}`).get() as { n: number }).n;
    this.#nextSegmentId = maxId('segments') + 1;
    this.#nextTrackInfoId = maxId('track_infos') + 1;
    this.#recover();
  }

  saveTrackInfo(streamId: number, header: ParsedHeader): number {
    const hash = createHash('sha256').update(header.bytes).digest('hex');
    for (const p of this.#pendingTrackInfos.values()) {
      if (p.stream_id === streamId && p.hash === hash) {
        return p.id;
      }
    }
    const found = this.#sql('SELECT id FROM track_infos WHERE stream_id = ? AND hash = ?').get(streamId, hash) as { id: number } | undefined;
    if (found !== undefined) {
      return found.id;
    }
    const tracks = header.tracks.map((t) => ({ ...t, uid: t.uid?.toString(), codecPrivate: t.codecPrivate ? Buffer.from(t.codecPrivate).toString('base64') : undefined }));
    const row: TrackInfoRow = {
      id: this.#nextTrackInfoId++,
      stream_id: streamId,
      hash,
      timecode_scale_ns: header.timecodeScaleNs,
      tracks_json: JSON.stringify(tracks),
      header: Buffer.from(header.bytes),
    };
    this.#pendingTrackInfos.set(row.id, row);
    return row.id;
  }

  trackInfo(id: number): StoredTrackInfo | undefined {
    const cached = this.#trackInfoCache.get(id);
    if (cached !== undefined) {
      return cached;
    }
    const row = (this.#pendingTrackInfos.get(id) ?? this.#sql('SELECT * FROM track_infos WHERE id = ?').get(id)) as
      | { id: number; stream_id: number; timecode_scale_ns: number; tracks_json: string; header: Buffer }
      | undefined;
    if (row === undefined) {
      return undefined;
    }
    const tracks = (JSON.parse(row.tracks_json) as (Omit<TrackInfo, 'uid' | 'codecPrivate'> & { uid?: string; codecPrivate?: string })[]).map((t) => ({
      ...t,
      uid: t.uid === undefined ? undefined : BigInt(t.uid),
      codecPrivate: t.codecPrivate === undefined ? undefined : new Uint8Array(Buffer.from(t.codecPrivate, 'base64')),
    }));
    const info: StoredTrackInfo = { id: row.id, streamId: row.stream_id, timecodeScaleNs: row.timecode_scale_ns, tracks, header: new Uint8Array(row.header) };
    if (!this.#pendingTrackInfos.has(id)) {
      this.#trackInfoCache.set(id, info);
    }
    return info;
  }

  nextFragmentNumber(streamId: number, serverMs: number): string {
    let last = this.#lastNumber.get(streamId);
    if (last === undefined) {
      const row = this.#sql('SELECT MAX(fragment_number) AS n FROM fragments WHERE stream_id = ?').get(streamId) as { n: string | null };
      last = row.n === null ? 0n : BigInt(row.n);
    }
    // serverMs × 10^6 keeps numbers a fixed 19 digits for centuries, so TEXT order equals numeric order.
    const candidate = BigInt(Math.floor(serverMs)) * 1_000_000n;
    const next = candidate > last ? candidate : last + 1n;
    this.#lastNumber.set(streamId, next);
    return next.toString();
  }

  async append(f: NewFragment): Promise<FragmentRecord> {
    if (this.#closed) {
      throw new Error('fragment store is closed');
    }
    // Index rows of one stream must commit in append (= fragment-number) order, or a live reader that already
    // moved past a later fragment would never see an earlier one. Writes run concurrently; each append hands its
    // row to the committer only after the previous append of the stream did, so it lands in the same or a later batch.
    const previous = this.#enqueued.get(f.streamId) ?? Promise.resolve();
    let markEnqueued!: () => void;
    const enqueued = new Promise<void>((resolve) => (markEnqueued = resolve));
    this.#enqueued.set(f.streamId, enqueued);
    let committed: Promise<void> | undefined;
    let seg: OpenSegment | undefined;
    try {
      const plain = f.tagsBytes !== null && f.tagsBytes.length > 0 ? [f.tagsBytes, f.clusterBytes] : [f.clusterBytes];
      // Sealed before a byte is written: a key problem fails the fragment with nothing on disk, and what is
      // fsync'd (and PERSISTED) is the ciphertext itself.
      const sealed = this.#cipher?.seal(f.streamId, f.fragmentNumber, plain) ?? null;
      const parts = sealed === null ? plain : [sealed.bytes];
      seg = await this.#segmentFor(f.streamId);
      seg.inFlight++;
      const tagsSize = f.tagsBytes?.length ?? 0;
      const size = tagsSize + f.clusterBytes.length;
      const offset = await appendToSegment(seg, parts);
      const row: FragmentRow = {
        stream_id: f.streamId,
        fragment_number: f.fragmentNumber,
        producer_ts_ms: Math.round(f.producerTimestampMs),
        server_ts_ms: Math.round(f.serverTimestampMs),
        duration_ms: Math.round(f.durationMs),
        timecode: f.timecode,
        segment_id: seg.id,
        offset,
        size,
        tags_size: tagsSize,
        track_info_id: f.trackInfoId,
        data_key_id: sealed?.dataKeyId ?? null,
        enc_nonce: sealed === null ? null : Buffer.from(sealed.nonce),
        enc_tag: sealed === null ? null : Buffer.from(sealed.tag),
      };
      await previous;
      const trackInfo = this.#pendingTrackInfos.get(f.trackInfoId) ?? null;
      committed = this.#committer.commit(seg.fd, { fragment: row, segment: seg.rowCommitted ? null : { id: seg.id, stream_id: f.streamId, created_ms: seg.createdMs }, trackInfo });
      markEnqueued();
      await committed;
      seg.rowCommitted = true;
      if (this.#dropped.has(f.streamId)) {
        throw new StreamDroppedError(f.streamId);
      }
      const known = this.#bytesByStream.get(f.streamId);
      if (known !== undefined) {
        this.#bytesByStream.set(f.streamId, known + size);
      }
      return toRecord(row);
    } finally {
      if (committed === undefined) {
        // failed before reaching the committer: later appends must not wait for this one
        void previous.then(markEnqueued);
      }
      if (this.#enqueued.get(f.streamId) === enqueued) {
        this.#enqueued.delete(f.streamId);
      }
      if (seg !== undefined) {
        seg.inFlight--;
        if (seg.retired && seg.inFlight === 0) {
          await seg.fd.close().catch(() => undefined);
        }
      }
    }
  }

  list(q: FragmentQuery): FragmentRecord[] {
    // Only the conditions a query has go into its SQL (one cached statement per shape): "@x IS NULL OR …" terms
    // hide the ranges from the planner, which then scans and sorts every row of the stream on each page.
    const kind = q.timestampKind;
    const col = kind === 'producer' ? 'producer_ts_ms' : 'server_ts_ms';
    const where = ['stream_id = @streamId'];
    const params: Record<string, unknown> = { streamId: q.streamId, limit: q.limit ?? -1 };
    // One lower bound on server time, not two: SQLite would take the first (the retention cutoff, i.e. the start of
    // the stream) as the index bound and read everything before the range.
    const serverFrom = kind === 'server' && q.fromMs !== undefined ? Math.max(q.fromMs, q.notBeforeServerMs) : q.notBeforeServerMs;
    where.push('server_ts_ms >= @notBefore');
    params['notBefore'] = serverFrom;
    if (q.fromMs !== undefined && kind === 'producer') {
      where.push('producer_ts_ms >= @from');
      params['from'] = q.fromMs;
    }
    if (q.toMs !== undefined) {
      where.push(`${col} <= @to`);
      params['to'] = q.toMs;
    }
    if (q.afterFragmentNumber !== undefined) {
      where.push('fragment_number > @after');
      params['after'] = q.afterFragmentNumber;
    }
    // Timestamp selections come in their index's own order (the index carries the primary key after the
    // timestamp), so a page is read straight off the index instead of sorting the whole range first.
    const dir = q.newestFirst ? ' DESC' : '';
    const order = kind === undefined ? `fragment_number${dir}` : `${col}${dir}, fragment_number${dir}`;
    const rows = this.#sql(`SELECT * FROM fragments WHERE ${where.join(' AND ')} ORDER BY ${order} LIMIT @limit`).all(params) as FragmentRow[];
    return rows.map(toRecord);
  }

  get(streamId: number, fragmentNumber: string): FragmentRecord | undefined {
    const row = this.#sql('SELECT * FROM fragments WHERE stream_id = ? AND fragment_number = ?').get(streamId, fragmentNumber) as FragmentRow | undefined;
    return row === undefined ? undefined : toRecord(row);
  }

  async readBytes(f: FragmentRecord): Promise<Uint8Array> {
    const row = this.#sql(LOCATION_SQL).get(f.streamId, f.fragmentNumber) as Location | undefined;
    if (row === undefined) {
      throw new Error(`fragment ${f.fragmentNumber} is gone`);
    }
    const fh = await this.#readHandle(segmentPath(this.#dataDir, f.streamId, row.segment_id));
    const buf = Buffer.allocUnsafe(row.size);
    const { bytesRead } = await fh.read(buf, 0, row.size, row.offset);
    if (bytesRead !== row.size) {
      throw new Error(`fragment ${f.fragmentNumber}: segment file is shorter than its index entry`);
    }
    return this.#decrypt(f, row, new Uint8Array(buf.buffer, buf.byteOffset, buf.length));
  }

  #decrypt(f: FragmentRecord, loc: Omit<Location, 'segment_id' | 'offset' | 'size'>, bytes: Uint8Array): Uint8Array {
    if (loc.data_key_id === null || loc.enc_nonce === null || loc.enc_tag === null) {
      return bytes;
    }
    if (this.#cipher === null) {
      throw new Error(`fragment ${f.fragmentNumber} is encrypted and this store has no cipher`);
    }
    return this.#cipher.open(f.streamId, f.fragmentNumber, { dataKeyId: loc.data_key_id, nonce: loc.enc_nonce, tag: loc.enc_tag }, bytes);
  }

  async readMany(fragments: readonly FragmentRecord[]): Promise<(Uint8Array | undefined)[]> {
    type Loc = { index: number; segment: number; offset: number; size: number; row: Location; f: FragmentRecord };
    const locs: Loc[] = [];
    fragments.forEach((f, index) => {
      const row = this.#sql(LOCATION_SQL).get(f.streamId, f.fragmentNumber) as Location | undefined;
      if (row !== undefined) {
        locs.push({ index, segment: row.segment_id, offset: row.offset, size: row.size, row, f });
      }
    });
    // Runs of fragments that sit back to back in one segment become one read.
    const runs: Loc[][] = [];
    for (const loc of [...locs].sort((a, b) => a.segment - b.segment || a.offset - b.offset)) {
      const run = runs.at(-1);
      const last = run?.at(-1);
      if (run !== undefined && last !== undefined && last.segment === loc.segment && last.offset + last.size === loc.offset && loc.offset + loc.size - (run[0]?.offset ?? 0) <= MAX_BATCH_READ_BYTES) {
        run.push(loc);
      } else {
        runs.push([loc]);
      }
    }
    const out: (Uint8Array | undefined)[] = fragments.map(() => undefined);
    const streamId = fragments[0]?.streamId;
    await Promise.all(
      runs.map(async (run) => {
        const first = run[0];
        const last = run.at(-1);
        if (first === undefined || last === undefined || streamId === undefined) {
          return;
        }
        const length = last.offset + last.size - first.offset;
        const fh = await this.#readHandle(segmentPath(this.#dataDir, streamId, first.segment));
        const buf = Buffer.allocUnsafe(length);
        const { bytesRead } = await fh.read(buf, 0, length, first.offset);
        for (const loc of run) {
          if (loc.offset - first.offset + loc.size <= bytesRead) {
            out[loc.index] = this.#decrypt(loc.f, loc.row, new Uint8Array(buf.buffer, buf.byteOffset + loc.offset - first.offset, loc.size));
          }
        }
      }),
    );
    return out;
  }

  /** Segment files stay open for reading (most recently used first), so a chunk costs one read, not open+read+close. */
  #readHandle(path: string): Promise<fsp.FileHandle> {
    let h = this.#readHandles.get(path);
    if (h !== undefined) {
      this.#readHandles.delete(path);
      this.#readHandles.set(path, h);
      return h;
    }
    h = fsp.open(path, 'r');
    this.#readHandles.set(path, h);
    h.catch(() => this.#readHandles.delete(path));
    while (this.#readHandles.size > MAX_OPEN_READ_HANDLES) {
      const [oldest, handle] = this.#readHandles.entries().next().value as [string, Promise<fsp.FileHandle>];
      this.#readHandles.delete(oldest);
      void handle.then((fh) => fh.close()).catch(() => undefined);
    }
    return h;
  }

  #closeReadHandle(path: string): void {
    const h = this.#readHandles.get(path);
    if (h !== undefined) {
      this.#readHandles.delete(path);
      void h.then((fh) => fh.close()).catch(() => undefined);
    }
  }

  expire(streamId: number, cutoffServerMs: number): number {
    this.#bytesByStream.delete(streamId);
    return this.#sql('DELETE FROM fragments WHERE stream_id = ? AND server_ts_ms < ?').run(streamId, cutoffServerMs).changes;
  }

  dropStream(streamId: number): void {
    this.#dropped.add(streamId);
    this.#db.transaction(() => {
      this.#sql('DELETE FROM fragments WHERE stream_id = ?').run(streamId);
      this.#sql('DELETE FROM track_infos WHERE stream_id = ?').run(streamId);
      for (const [id, info] of this.#trackInfoCache) {
        if (info.streamId === streamId) {
          this.#trackInfoCache.delete(id);
        }
      }
    })();
    this.#lastNumber.delete(streamId);
    this.#bytesByStream.delete(streamId);
    const seg = this.#open.get(streamId);
    if (seg !== undefined) {
      this.#retire(streamId, seg);
    }
  }

  async reclaim(): Promise<{ segmentsDeleted: number; bytesFreed: number }> {
    const orphans = this.#db
      .prepare('SELECT s.id, s.stream_id FROM segments s WHERE NOT EXISTS (SELECT 1 FROM fragments f WHERE f.segment_id = s.id)')
      .all() as { id: number; stream_id: number }[];
    let segmentsDeleted = 0;
    let bytesFreed = 0;
    for (const o of orphans) {
      const open = this.#open.get(o.stream_id);
      if (open?.id === o.id && open.inFlight > 0) {
        continue; // an append to it is still being committed
      }
      if (open?.id === o.id) {
        this.#retire(o.stream_id, open);
      }
      const path = segmentPath(this.#dataDir, o.stream_id, o.id);
      this.#closeReadHandle(path);
      try {
        bytesFreed += statSync(path).size;
        await fsp.unlink(path);
      } catch {
        // already gone (e.g. the stream directory was removed)
      }
      this.#sql('DELETE FROM segments WHERE id = ?').run(o.id);
      segmentsDeleted++;
    }
    return { segmentsDeleted, bytesFreed };
  }

  storedBytes(streamId: number): number {
    let n = this.#bytesByStream.get(streamId);
    if (n === undefined) {
      n = (this.#sql('SELECT COALESCE(SUM(size), 0) AS n FROM fragments WHERE stream_id = ?').get(streamId) as { n: number }).n;
      this.#bytesByStream.set(streamId, n);
    }
    return n;
  }

  async close(): Promise<void> {
    if (this.#closed) {
      return;
    }
    this.#closed = true;
    await this.#committer.drain();
    for (const path of [...this.#readHandles.keys()]) {
      this.#closeReadHandle(path);
    }
    for (const seg of this.#open.values()) {
      await seg.fd.close().catch(() => undefined);
    }
    this.#open.clear();
  }

  #sql(text: string): Statement {
    let st = this.#statements.get(text);
    if (st === undefined) {
      st = this.#db.prepare<unknown[]>(text);
      this.#statements.set(text, st);
    }
    return st;
  }

  #segmentFor(streamId: number): Promise<OpenSegment> {
    // Serialised per stream: concurrent appends must share one new segment, not each open their own.
    const prev = this.#opening.get(streamId) ?? Promise.resolve(undefined);
    const next = prev.then(() => this.#currentOrNewSegment(streamId));
    this.#opening.set(streamId, next.catch(() => undefined));
    return next;
  }

  async #currentOrNewSegment(streamId: number): Promise<OpenSegment> {
    const cur = this.#open.get(streamId);
    const now = this.#clock.now();
    // A segment whose fdatasync failed is never appended to again (see GroupCommitter.broken).
    if (cur !== undefined && !this.#committer.broken(cur.fd) && cur.size < SEGMENT_MAX_BYTES && now - cur.createdMs < SEGMENT_MAX_AGE_MS) {
      return cur;
    }
    if (cur !== undefined) {
      this.#retire(streamId, cur);
    }
    const created = await fsp.mkdir(streamDir(this.#dataDir, streamId), { recursive: true });
    const id = this.#nextSegmentId++;
    const fd = await fsp.open(segmentPath(this.#dataDir, streamId, id), 'w');
    // The new file's directory entry must be durable too, or a crash could lose a whole persisted segment.
    await syncDir(streamDir(this.#dataDir, streamId));
    // So must the entries of directories just made for it (streams/<id>, on a first start streams/ too): a
    // directory's fsync covers the entries in it, not its own entry in its parent.
    if (created !== undefined) {
      for (let d = dirname(streamDir(this.#dataDir, streamId)); ; d = dirname(d)) {
        await syncDir(d);
        if (d === dirname(created) || d === dirname(d)) {
          break;
        }
      }
    }
    const seg: OpenSegment = { id, fd, size: 0, createdMs: now, inFlight: 0, retired: false, rowCommitted: false };
    this.#open.set(streamId, seg);
    return seg;
  }

  #retire(streamId: number, seg: OpenSegment): void {
    seg.retired = true;
    if (this.#open.get(streamId) === seg) {
      this.#open.delete(streamId);
    }
    if (seg.inFlight === 0) {
      void seg.fd.close().catch(() => undefined);
    }
  }

  /**
   * Crash recovery: a segment may end in bytes whose index rows never committed (torn tail). Truncate each
   * segment to the end of its last indexed fragment, and delete files and rows that nothing refers to.
   */
  #recover(): void {
    const root = join(this.#dataDir, 'streams');
    const known = new Map<string, { id: number; end: number }>();
    const rows = this.#db
      .prepare('SELECT s.id, s.stream_id, COALESCE(MAX(f.offset + f.size), 0) AS end FROM segments s LEFT JOIN fragments f ON f.segment_id = s.id GROUP BY s.id')
      .all() as { id: number; stream_id: number; end: number }[];
    for (const r of rows) {
      known.set(segmentPath(this.#dataDir, r.stream_id, r.id), { id: r.id, end: r.end });
    }
    let dirs: string[] = [];
    try {
      dirs = readdirSync(root);
    } catch {
      dirs = [];
    }
    const seen = new Set<string>();
    for (const d of dirs) {
      const dir = join(root, d);
      for (const file of readdirSync(dir)) {
        const path = join(dir, file);
        const k = known.get(path);
        if (k === undefined) {
          rmSync(path, { force: true });
          continue;
        }
        seen.add(path);
        if (statSync(path).size > k.end) {
          // truncate the torn tail; the bytes were never acknowledged as PERSISTED
          truncateSync(path, k.end);
        }
      }
    }
    // Index rows whose segment file is gone (a backup that copied the database but not every file, a file removed by
    // hand) point at bytes no read can return: they are dropped, so listings show only what can be served.
    const lost = [...known].filter(([path, k]) => !seen.has(path) && k.end > 0).map(([, k]) => k.id);
    if (lost.length > 0) {
      const dropFragments = this.#db.prepare('DELETE FROM fragments WHERE segment_id = ?');
      const dropSegment = this.#db.prepare('DELETE FROM segments WHERE id = ?');
      this.#db.transaction(() => {
        for (const id of lost) {
          this.recovery.lostFragments += dropFragments.run(id).changes;
          dropSegment.run(id);
        }
      })();
      this.recovery.lostSegments = lost.length;
    }
  }
}

async function syncDir(path: string): Promise<void> {
  const dir = await fsp.open(path, 'r');
  await dir.sync().finally(() => dir.close());
}
