-- zevdesk schema version 1. Text keys use the "C" collation so that their
-- order is byte order, as in the bbolt store. Times are UTC timestamps with
-- the nanoseconds below the microsecond in a column of their own (ns).

-- sites: one row per site; the definition as JSON (core.Site).
CREATE TABLE sites (
	id   text COLLATE "C" PRIMARY KEY,
	site json NOT NULL
);

-- series: every (site, meter, channel) that has interval data; channel 0 is
-- import (consumption), 1 export (production, feed-in).
CREATE TABLE series (
	site    text COLLATE "C" NOT NULL,
	meter   text COLLATE "C" NOT NULL,
	channel smallint NOT NULL CHECK (channel IN (0, 1)),
	PRIMARY KEY (site, meter, channel)
);

-- intervals: one row per series and UTC day (days since 1970-01-01), the
-- day's 96 quarter-hour values in the day-block encoding of
-- core/store/block (a few bytes per value; `zevdesk check` decodes them).
CREATE TABLE intervals (
	site    text COLLATE "C" NOT NULL,
	meter   text COLLATE "C" NOT NULL,
	channel smallint NOT NULL,
	day     integer NOT NULL,
	block   bytea NOT NULL,
	PRIMARY KEY (site, meter, channel, day)
);
ALTER TABLE intervals ALTER COLUMN block SET STORAGE MAIN;

-- registers: cumulative register readings in mWh.
CREATE TABLE registers (
	site       text COLLATE "C" NOT NULL,
	meter      text COLLATE "C" NOT NULL,
	at         timestamptz NOT NULL,
	ns         smallint NOT NULL,
	import_mwh bigint NOT NULL,
	export_mwh bigint NOT NULL,
	PRIMARY KEY (site, meter, at, ns)
);

-- replacements: confirmed meter exchanges (JSON store.Replacement).
CREATE TABLE replacements (
	site        text COLLATE "C" NOT NULL,
	meter       text COLLATE "C" NOT NULL,
	at          timestamptz NOT NULL,
	ns          smallint NOT NULL,
	replacement json NOT NULL,
	PRIMARY KEY (site, meter, at, ns)
);

-- records: raw gateway records by gateway (source) and sequence number.
CREATE TABLE records (
	source     text COLLATE "C" NOT NULL,
	seq        bigint NOT NULL CHECK (seq >= 0),
	meter      text NOT NULL,
	at         timestamptz NOT NULL,
	ns         smallint NOT NULL,
	import_mwh bigint NOT NULL,
	export_mwh bigint NOT NULL,
	PRIMARY KEY (source, seq)
);

-- cursors: the highest sequence number committed per gateway.
CREATE TABLE cursors (
	source text COLLATE "C" PRIMARY KEY,
	seq    bigint NOT NULL CHECK (seq >= 0)
);

-- flags: plausibility findings per quarter-hour slot (15-minute intervals
-- numbered from 1970-01-01 00:00 UTC).
CREATE TABLE flags (
	site   text COLLATE "C" NOT NULL,
	meter  text COLLATE "C" NOT NULL,
	slot   bigint NOT NULL,
	kind   text COLLATE "C" NOT NULL,
	reason text NOT NULL,
	PRIMARY KEY (site, meter, slot, kind)
);

-- audit: the append-only log of every edit.
CREATE TABLE audit (
	seq    bigint PRIMARY KEY,
	at     timestamptz NOT NULL,
	ns     smallint NOT NULL,
	actor  text NOT NULL,
	site   text NOT NULL,
	action text NOT NULL,
	detail text NOT NULL
);

-- locks: billed periods (core.Period: from and to dates in the site's time zone).
CREATE TABLE locks (
	site        text COLLATE "C" NOT NULL,
	period_from date NOT NULL,
	period_to   date NOT NULL,
	at          timestamptz NOT NULL,
	ns          smallint NOT NULL,
	note        text NOT NULL,
	PRIMARY KEY (site, period_from, period_to)
);

-- meta: small named documents (gateway pairings, invoice counters, billing
-- runs, settings), each a byte string its owner encodes.
CREATE TABLE meta (
	bucket text COLLATE "C" NOT NULL,
	key    text COLLATE "C" NOT NULL,
	value  bytea NOT NULL,
	PRIMARY KEY (bucket, key)
);
