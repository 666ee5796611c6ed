-- Retention (issue 15, CNIL délibération 2023-095): when a person's file has had no contact
-- for the retention period (a server setting, 2 years by default) and nothing keeps it active,
-- a coordinator confirms its anonymisation on the server: identity, contact details and free
-- text are emptied everywhere, counts stay for statistics. The server sets the date; a device
-- never does. A pulled anonymisation empties the search index through the contacts triggers.
ALTER TABLE contacts ADD COLUMN anonymised_on TEXT;
