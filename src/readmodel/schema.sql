-- The read model, schema 4: every projection of the log, derived from it,
-- rebuildable from it, and checked against a fresh replay of it by verify.
-- Tables and views are a public interface (docs/READ-MODEL.md): columns are
-- added, never renamed or removed. verify compares the file's definitions
-- with this text, so any change to it comes with a new SCHEMA_VERSION.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

-- Schema 4: the events of the log, stored compactly: `events` (below) is
-- the view of them in the JSON form of `export`, a second, independent copy
-- of the log (`repair` re-appends from it). Not part of the interface: the
-- id and hash are their bytes, the time is microseconds since 1970 (UTC),
-- `type` and `position` are small codes (the order of `KINDS` and of
-- `Position` in the code), and each row's `prev_hash` is the `hash` of the
-- row before it. This took the read model from 2.44x to 1.88x the encoded
-- log (docs/PERFORMANCE.md, round 7).
CREATE TABLE event_rows (
    seq          INTEGER PRIMARY KEY,
    id           BLOB NOT NULL UNIQUE,  -- the UUID's 16 bytes
    recorded_us  INTEGER NOT NULL,      -- microseconds since 1970-01-01T00:00:00Z
    recorded_by  TEXT NOT NULL,
    type_code    INTEGER NOT NULL,      -- the type's code: type_text
    hash         BLOB NOT NULL,         -- the 32 bytes of the hash chain
    target_seq   INTEGER,               -- edits: the seq of the statement edited
    actor        TEXT,
    issue        TEXT,
    reason       TEXT,
    position_code INTEGER,              -- the position's code: position_text
    stated_on    TEXT,                  -- YYYY-MM-DD: sorts as a date
    summary      TEXT,
    quote        TEXT,
    speaker      TEXT,
    source_url   TEXT,
    source_title TEXT,
    stated_on_precision TEXT,           -- month or year; NULL is a day
    qualifiers   TEXT,                  -- JSON array of not-yet, conditional, in-principle, reiterated
    condition    TEXT,
    attribution  TEXT,                  -- anonymous, reported, inferred; NULL is on-record
    reported_by  TEXT,
    speaker_role TEXT,
    sources      TEXT,                  -- JSON array of {url, title, publisher, published_on}
    quote_lang   TEXT,
    translation  TEXT,
    slug         TEXT,                  -- the naming kinds: the issue
    title        TEXT,
    proposition  TEXT,
    description  TEXT,
    alias        TEXT,
    lang         TEXT,
    used_by      TEXT,                  -- JSON array of actor codes
    from_issue   TEXT,                  -- issue_merge: `from`
    into_issue   TEXT,                  -- issue_merge: `into`
    code         TEXT,                  -- actor_definition
    name         TEXT,
    kind         TEXT                   -- actor_definition
);
-- The naming events (few), which every resolution of a name reads: their
-- codes are the contiguous range of naming_types.
CREATE INDEX events_naming ON event_rows (seq) WHERE naming_types(type_code);
CREATE INDEX events_by_target ON event_rows (target_seq, seq) WHERE target_seq IS NOT NULL;

-- One row per event of the log, in the JSON form of `export`: the
-- documented columns of schema 3's `events` table, with the same text.
CREATE VIEW events AS
SELECT
    e.seq,
    uuid_text(e.id) AS id,
    time_text(e.recorded_us) AS recorded_at,
    e.recorded_by,
    type_text(e.type_code) AS type,
    CASE WHEN e.seq = 1 THEN genesis_text() ELSE (SELECT hash_text(p.hash) FROM event_rows p WHERE p.seq = e.seq - 1) END AS prev_hash,
    hash_text(e.hash) AS hash,
    (SELECT uuid_text(t.id) FROM event_rows t WHERE t.seq = e.target_seq) AS target,
    e.target_seq,
    e.actor,
    e.issue,
    e.reason,
    position_text(e.position_code) AS position,
    e.stated_on,
    e.summary,
    e.quote,
    e.speaker,
    e.source_url,
    e.source_title,
    e.stated_on_precision,
    e.qualifiers,
    e.condition,
    e.attribution,
    e.reported_by,
    e.speaker_role,
    e.sources,
    e.quote_lang,
    e.translation,
    e.slug,
    e.title,
    e.proposition,
    e.description,
    e.alias,
    e.lang,
    e.used_by,
    e.from_issue,
    e.into_issue,
    e.code,
    e.name,
    e.kind
FROM event_rows e;

-- Every version of every statement: one row when it is recorded, one per
-- amendment (at the date in force after it), a tombstone for a retraction.
-- The as-of axis is `stated_on`, the known-at axis is `version_seq`.
CREATE TABLE versions (
    actor         TEXT NOT NULL,
    issue         TEXT NOT NULL,
    stated_on     TEXT NOT NULL,
    statement_seq INTEGER NOT NULL,
    version_seq   INTEGER NOT NULL,
    tombstone     INTEGER NOT NULL,
    PRIMARY KEY (actor, issue, stated_on, statement_seq, version_seq)
) WITHOUT ROWID;

-- Schema 3: per actor and issue (as recorded: the slug of a merged issue
-- keeps its own rows), the statement in force from its `stated_on` onward
-- as known now: the unretracted statement with the latest `stated_on` as
-- amended (a same-day tie goes to the statement recorded later), or NULLs
-- when every statement on the pair is retracted. The writer keeps it with
-- each write, so a whole-table query at the head reads one row per pair.
-- (Schema 3 also dropped the indexes of `events` by `recorded_at`, which
-- never decreases along the log, so a moment's seq is found by bisecting
-- `seq`, and of `versions` by statement and by issue, which this table
-- and the pair's own versions answer.)
CREATE TABLE stances_latest (
    issue         TEXT NOT NULL,
    actor         TEXT NOT NULL,
    statement_seq INTEGER,       -- NULL (and every column below): none in force
    statement_id  TEXT,
    -- The statement as amended now, in the text forms of `events`.
    recorded_at   TEXT,
    recorded_by   TEXT,
    position      TEXT,
    stated_on     TEXT,
    summary       TEXT,
    quote         TEXT,
    speaker       TEXT,
    source_url    TEXT,
    source_title  TEXT,
    stated_on_precision TEXT,
    qualifiers    TEXT,
    condition     TEXT,
    attribution   TEXT,
    reported_by   TEXT,
    speaker_role  TEXT,
    sources       TEXT,
    quote_lang    TEXT,
    translation   TEXT,
    amendments    INTEGER,       -- how many amendments it has had
    first_seq     INTEGER NOT NULL, -- the pair's first statement (retracted or not)
    PRIMARY KEY (issue, actor)
) WITHOUT ROWID;

-- Each statement as amended now.
CREATE VIEW statements_current AS
SELECT
    s.id AS statement_id,
    s.seq,
    s.actor,
    s.issue,
    COALESCE((SELECT a.position FROM events a WHERE a.target_seq = s.seq AND a.type = 'amendment' AND a.position IS NOT NULL ORDER BY a.seq DESC LIMIT 1), s.position) AS position,
    COALESCE((SELECT a.stated_on FROM events a WHERE a.target_seq = s.seq AND a.type = 'amendment' AND a.stated_on IS NOT NULL ORDER BY a.seq DESC LIMIT 1), s.stated_on) AS stated_on,
    COALESCE((SELECT a.summary FROM events a WHERE a.target_seq = s.seq AND a.type = 'amendment' AND a.summary IS NOT NULL ORDER BY a.seq DESC LIMIT 1), s.summary) AS summary,
    COALESCE((SELECT a.quote FROM events a WHERE a.target_seq = s.seq AND a.type = 'amendment' AND a.quote IS NOT NULL ORDER BY a.seq DESC LIMIT 1), s.quote) AS quote,
    COALESCE((SELECT a.speaker FROM events a WHERE a.target_seq = s.seq AND a.type = 'amendment' AND a.speaker IS NOT NULL ORDER BY a.seq DESC LIMIT 1), s.speaker) AS speaker,
    COALESCE((SELECT a.source_url FROM events a WHERE a.target_seq = s.seq AND a.type = 'amendment' AND a.source_url IS NOT NULL ORDER BY a.seq DESC LIMIT 1), s.source_url) AS source_url,
    COALESCE((SELECT a.source_title FROM events a WHERE a.target_seq = s.seq AND a.type = 'amendment' AND a.source_title IS NOT NULL ORDER BY a.seq DESC LIMIT 1), s.source_title) AS source_title,
    COALESCE((SELECT CASE WHEN r.type = 'retraction' THEN 1 ELSE 0 END FROM events r WHERE r.target_seq = s.seq AND r.type IN ('retraction', 'reinstatement') ORDER BY r.seq DESC LIMIT 1), 0) AS retracted,
    (SELECT count(*) FROM events a WHERE a.target_seq = s.seq AND a.type = 'amendment') AS amendments,
    s.recorded_at,
    s.recorded_by
FROM events s
WHERE s.type = 'statement';

-- The stance in force today (UTC) as known now: per actor and issue, the
-- unretracted statement with the latest stated_on on or before today; a
-- same-day tie goes to the statement recorded later. (Schema 3: a pair whose
-- latest statement is dated today or earlier reads it from stances_latest;
-- only a pair with a later one ranks its own statements.)
CREATE VIEW stances_now AS
SELECT actor, issue, position, stated_on, statement_id
FROM stances_latest
WHERE statement_seq IS NOT NULL AND stated_on <= date('now')
UNION ALL
SELECT c.actor, c.issue, c.position, c.stated_on, c.statement_id
FROM stances_latest l
JOIN statements_current c ON c.seq = (
    SELECT v.statement_seq
    FROM versions v JOIN statements_current w ON w.seq = v.statement_seq
    WHERE v.actor = l.actor AND v.issue = l.issue AND v.version_seq = v.statement_seq
      AND w.retracted = 0 AND w.stated_on <= date('now')
    ORDER BY w.stated_on DESC, w.seq DESC
    LIMIT 1
)
WHERE l.stated_on > date('now');

-- Every issue a definition names, with the wording in force now.
-- (Schema 4: read from the naming events' own index.)
CREATE VIEW issues_current AS
SELECT
    d.slug,
    COALESCE((SELECT r.title FROM event_rows r WHERE naming_types(r.type_code) AND r.type_code = type_code(issue_rewording) AND r.slug = d.slug AND r.title IS NOT NULL ORDER BY r.seq DESC LIMIT 1), d.title) AS title,
    COALESCE((SELECT r.proposition FROM event_rows r WHERE naming_types(r.type_code) AND r.type_code = type_code(issue_rewording) AND r.slug = d.slug AND r.proposition IS NOT NULL ORDER BY r.seq DESC LIMIT 1), d.proposition) AS proposition,
    COALESCE((SELECT r.description FROM event_rows r WHERE naming_types(r.type_code) AND r.type_code = type_code(issue_rewording) AND r.slug = d.slug AND r.description IS NOT NULL ORDER BY r.seq DESC LIMIT 1), d.description) AS description,
    (SELECT m.into_issue FROM event_rows m WHERE naming_types(m.type_code) AND m.type_code = type_code(issue_merge) AND m.from_issue = d.slug) AS merged_into
FROM event_rows d
WHERE naming_types(d.type_code) AND d.type_code = type_code(issue_definition);
