-- Dashboards count projects by state within what a viewer may see; this
-- covering index answers the public's count without reading project rows.
CREATE INDEX projects_published_state ON projects(published, state, supporter_code, recipient_code);
