-- Evaluation and the coordinators' dashboard (issue 16).
--
-- An evaluation says over which period its indicators were counted and which territories it
-- concerns (the action's, when it was evaluated): the data contract's action_evaluations.
ALTER TABLE action_evaluations ADD COLUMN period_start TEXT;
ALTER TABLE action_evaluations ADD COLUMN period_end TEXT;
ALTER TABLE action_evaluations ADD COLUMN territory_ids TEXT NOT NULL DEFAULT '[]';

-- The dashboard's figures are GROUP BY queries over a period (core/indicators.py); each has
-- the index it walks (tests/core/test_indicators.py checks the plans):
-- desk encounters by period, covering territory, need and age group (the table had none);
CREATE INDEX reception_encounters_period
    ON reception_encounters(deleted, occurred_at, territory_id, need_id, age_group_id);
-- visits by period with what the counts read (kind, person for the territory, lists);
CREATE INDEX visits_dashboard
    ON visits(deleted, occurred_at, person_id, kind, need_ids, proposed_action_ids);
-- handouts by period.
CREATE INDEX handouts_given_at ON handouts_given(deleted, given_at, territory_id);
-- the last evaluation of each action (yearly review).
CREATE INDEX action_evaluations_last ON action_evaluations(action_id, evaluated_on);
-- a visit's territory and a person's age group are read through the person: covering.
CREATE INDEX contacts_dashboard ON contacts(id, territory_id, birth_date);
-- "taken up": does a visit of the period to this person propose this action? Covering, so the
-- check reads the index only (a year: 0.4–0.7 s through visits_person, 0.1 s through this).
CREATE INDEX visits_person_proposed ON visits(person_id, deleted, occurred_at, proposed_action_ids);
