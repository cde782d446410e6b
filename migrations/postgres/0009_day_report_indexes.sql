-- GET /v1/stats/days counts dead deliveries and finished SMS by the day they ended:
-- these keep that read to the days asked instead of whole tables. Dead deliveries are
-- few (a partial index); every SMS row ends in one of the counted states.
CREATE INDEX deliveries_dead_by_time ON deliveries (updated_at) WHERE state = 'dead';
CREATE INDEX fallback_sends_by_time ON fallback_sends (updated_at);
