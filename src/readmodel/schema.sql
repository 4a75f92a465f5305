-- The read model, schema 3: every projection of the log, derived from it,
-- rebuildable from it, and checked against a fresh replay of it by verify.
-- Tables and views are a public interface (docs/READ-MODEL.md): columns are
-- added, never renamed or removed.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

-- One row per event of the log, in the JSON form of `export` (a second,
-- independent copy of the log: `repair` re-appends from it).
CREATE TABLE events (
    seq          INTEGER PRIMARY KEY,
    id           TEXT NOT NULL UNIQUE,
    recorded_at  TEXT NOT NULL,  -- RFC 3339 UTC, 6 fractional digits: sorts as time
    recorded_by  TEXT NOT NULL,
    type         TEXT NOT NULL,  -- statement, amendment, retraction, reinstatement, issue_definition, issue_rewording, alias, alias_removal, issue_merge, actor_definition
    prev_hash    TEXT NOT NULL,
    hash         TEXT NOT NULL,
    target       TEXT,           -- edits: the id of the statement edited
    target_seq   INTEGER,        -- edits: its seq
    actor        TEXT,
    issue        TEXT,
    reason       TEXT,
    position     TEXT,
    stated_on    TEXT,           -- YYYY-MM-DD: sorts as a date
    summary      TEXT,
    quote        TEXT,
    speaker      TEXT,
    source_url   TEXT,
    source_title TEXT,
    -- Schema 2: the fields of record format 2, as in the export (lists as JSON arrays).
    stated_on_precision TEXT,    -- month or year; NULL is a day
    qualifiers   TEXT,           -- JSON array of not-yet, conditional, in-principle, reiterated
    condition    TEXT,
    attribution  TEXT,           -- anonymous, reported, inferred; NULL is on-record
    reported_by  TEXT,
    speaker_role TEXT,
    sources      TEXT,           -- JSON array of {url, title, publisher, published_on}
    quote_lang   TEXT,
    translation  TEXT,
    slug         TEXT,           -- the naming kinds: the issue
    title        TEXT,
    proposition  TEXT,
    description  TEXT,
    alias        TEXT,
    lang         TEXT,
    used_by      TEXT,           -- JSON array of actor codes
    from_issue   TEXT,           -- issue_merge: `from`
    into_issue   TEXT,           -- issue_merge: `into`
    code         TEXT,           -- actor_definition
    name         TEXT,
    kind         TEXT
);
-- The naming events (few), which every resolution of a name reads.
CREATE INDEX events_naming ON events (seq) WHERE type IN ('issue_definition', 'issue_rewording', 'alias', 'alias_removal', 'issue_merge', 'actor_definition');
CREATE INDEX events_by_target ON events (target_seq, seq) WHERE target_seq IS NOT NULL;

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
CREATE VIEW issues_current AS
SELECT
    d.slug,
    COALESCE((SELECT r.title FROM events r WHERE r.type = 'issue_rewording' AND r.slug = d.slug AND r.title IS NOT NULL ORDER BY r.seq DESC LIMIT 1), d.title) AS title,
    COALESCE((SELECT r.proposition FROM events r WHERE r.type = 'issue_rewording' AND r.slug = d.slug AND r.proposition IS NOT NULL ORDER BY r.seq DESC LIMIT 1), d.proposition) AS proposition,
    COALESCE((SELECT r.description FROM events r WHERE r.type = 'issue_rewording' AND r.slug = d.slug AND r.description IS NOT NULL ORDER BY r.seq DESC LIMIT 1), d.description) AS description,
    (SELECT m.into_issue FROM events m WHERE m.type = 'issue_merge' AND m.from_issue = d.slug) AS merged_into
FROM events d
WHERE d.type = 'issue_definition';
