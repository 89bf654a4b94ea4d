-- Organisation logos, uploaded through the API (PUT /api/v1/organization/logo) and shown on
-- the quote PDF and the configurator: kept here so nothing is fetched from a URL at render
-- time. One per organisation; sha256 is the image's digest (the ETag).

CREATE TABLE org_logos (
    org_id       TEXT PRIMARY KEY REFERENCES orgs(id) ON DELETE CASCADE,
    content_type TEXT NOT NULL,
    image        BLOB NOT NULL,
    sha256       TEXT NOT NULL,
    updated_at   INTEGER NOT NULL
);
