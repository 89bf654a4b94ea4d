-- Real organisations: an operator can disable one (its keys refused, its pages gone, its
-- deliveries paused until it is enabled again), and its catalog is versioned. `templates`
-- keeps each template's current definition and whether it is deleted; `template_versions`
-- every definition it had, which sessions and submissions keep pricing against. Stored
-- definitions no longer carry the template's id (the row does).

ALTER TABLE orgs ADD COLUMN disabled_at BIGINT;

ALTER TABLE templates ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
ALTER TABLE templates ADD COLUMN updated_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE templates ADD COLUMN deleted_at BIGINT;
-- Catalog order (creation order; creation instants can tie).
ALTER TABLE templates ADD COLUMN position BIGINT NOT NULL DEFAULT 0;
UPDATE templates SET definition = (CAST(definition AS jsonb) - 'id')::text, updated_at = created_at, position = created_at;

CREATE TABLE template_versions (
    template_id TEXT NOT NULL REFERENCES templates(id),
    version     BIGINT NOT NULL,
    definition  TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (template_id, version)
);
INSERT INTO template_versions (template_id, version, definition, created_at)
    SELECT id, version, definition, created_at FROM templates;

ALTER TABLE configuration_sessions ADD COLUMN template_version BIGINT NOT NULL DEFAULT 1;
ALTER TABLE submissions ADD COLUMN template_version BIGINT NOT NULL DEFAULT 1;
