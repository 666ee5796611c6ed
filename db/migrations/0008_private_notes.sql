-- A visit note can be private (issue 15): its author and the coordinators of the person's
-- territory only. The server withholds the note from every other device (the visit itself
-- still reaches colleagues, its note empty); the author's own device keeps it.
ALTER TABLE visits ADD COLUMN notes_private INTEGER NOT NULL DEFAULT 0;
