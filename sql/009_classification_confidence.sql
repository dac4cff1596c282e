-- Issue 12: the probability the classifier gave its call type (the offline classifier gives one; LLM routes
-- do not: null). The verdict trusts a call type below classification_min_confidence no more than an
-- untrusted answer: rule 4 then goes to a person instead of accusing the technician.
alter table raw.classifications
    add column if not exists call_type_confidence real check (call_type_confidence between 0 and 1);
