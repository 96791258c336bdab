"""Recurrence corpus for tests/api/test_recurrence_oracle.py (issue 4, item 5).

Each case is one recurring VEVENT (and optionally RECURRENCE-ID overrides of it) together with
the window its expansion is compared over:

  id         unique name (the pytest id)
  ics        the VEVENT's content lines (DTSTART with TZID, UTC "Z" or VALUE=DATE; DTEND or
             DURATION; RRULE / EXDATE / RDATE lines exactly as they go into the API's
             `recurrence` list).  BEGIN/END:VEVENT, UID, DTSTAMP and SUMMARY are added by the test.
  overrides  optional: list of override VEVENT bodies (RECURRENCE-ID, DTSTART, DTEND/DURATION);
             the test applies each one with PATCH /events/{id}/instances/{recurrence_id}.
  cancel     optional: RECURRENCE-ID lines of occurrences cancelled with
             DELETE /events/{id}/instances/{recurrence_id} (after the overrides); the oracle
             sees them as EXDATEs of the master (and without an override of the same one).
  window     (from, to): dates "YYYY-MM-DD" (UTC midnight for timed events, plain dates for
             all-day ones).  Compared: the occurrences whose START lies in [from, to), and the
             server's own [from, to) listing (by overlap).
  time_zone  optional, all-day events only: the zone the API event lives in (default "UTC");
             its occurrences are compared as dates.
  disputed   optional: why recurring_ical_events 2.0.1 (python3-recurring-ical-events, with
             icalendar 4.0.3, pytz and dateutil 2.8.2) is wrong here.  Then `expected` holds the
             starts settled by hand against RFC 5545 ("...Z" UTC instants), the server is
             compared with that (each lasting the master's duration), and the test also asserts
             that the library still disagrees.
  note       optional remark (e.g. why an RFC example was moved or bounded).

The RFC 5545 section 3.8.5.3 examples keep their RFC DTSTART (1997, America/New_York) unless a
note says otherwise: the server refuses a series that makes more than 5000 occurrences between
its start and its expansion horizon (about two years ahead of now), so the dense "forever" rules
are moved close to now or given an end.  Windows end by early 2036: the horizon, which a query
pushes for every series, then never makes a case created later exceed that limit.  The "far"
cases come before the others with late windows so that their series really are extended past
the first horizon (the path that skips whole periods ahead) rather than expanded at creation.

Left out on purpose: a DTSTART inside a DST gap (the API takes an instant, so "02:30 in the gap"
cannot be told from the 03:30 it means; RFC 5545 repeats 02:30), DTSTART not produced by the
rule and BYWEEKNO with INTERVAL > 1 across the turn of the year (RFC 5545 leaves them open),
and FREQ=HOURLY/MINUTELY across DST changes (whether the step is elapsed or wall-clock time is
disputed between implementations).
"""

CASES = [
    # ---- RFC 5545 section 3.8.5.3, in the RFC's order ------------------------------------------
    dict(id="rfc_daily_count10",
         ics="""DTSTART;TZID=America/New_York:19970902T090000
DURATION:PT1H
RRULE:FREQ=DAILY;COUNT=10""",
         window=("1997-09-01", "1997-10-01")),
    dict(id="rfc_daily_until",
         ics="""DTSTART;TZID=America/New_York:19970902T090000
DURATION:PT1H
RRULE:FREQ=DAILY;UNTIL=19971224T000000Z""",
         window=("1997-09-01", "1998-01-01")),
    dict(id="rfc_every_other_day_forever",
         ics="""DTSTART;TZID=America/New_York:20260902T090000
DURATION:PT1H
RRULE:FREQ=DAILY;INTERVAL=2""",
         window=("2026-09-01", "2027-04-01"),
         note="RFC DTSTART 19970902 moved to 2026: from 1997 it exceeds the 5000 cap"),
    dict(id="rfc_every_10_days_count5",
         ics="""DTSTART;TZID=America/New_York:19970902T090000
DURATION:PT1H
RRULE:FREQ=DAILY;INTERVAL=10;COUNT=5""",
         window=("1997-09-01", "1997-12-01")),
    dict(id="rfc_january_3_years_yearly",
         ics="""DTSTART;TZID=America/New_York:19980101T090000
DURATION:PT1H
RRULE:FREQ=YEARLY;UNTIL=20000131T140000Z;BYMONTH=1;BYDAY=SU,MO,TU,WE,TH,FR,SA""",
         window=("1997-12-01", "2000-03-01")),
    dict(id="rfc_january_3_years_daily",
         ics="""DTSTART;TZID=America/New_York:19980101T090000
DURATION:PT1H
RRULE:FREQ=DAILY;UNTIL=20000131T140000Z;BYMONTH=1""",
         window=("1997-12-01", "2000-03-01")),
    dict(id="rfc_weekly_count10",
         ics="""DTSTART;TZID=America/New_York:19970902T090000
DURATION:PT1H
RRULE:FREQ=WEEKLY;COUNT=10""",
         window=("1997-09-01", "1998-01-01")),
    dict(id="rfc_weekly_until",
         ics="""DTSTART;TZID=America/New_York:19970902T090000
DURATION:PT1H
RRULE:FREQ=WEEKLY;UNTIL=19971224T000000Z""",
         window=("1997-09-01", "1998-01-01")),
    dict(id="rfc_every_other_week_forever",
         ics="""DTSTART;TZID=America/New_York:19970902T090000
DURATION:PT1H
RRULE:FREQ=WEEKLY;INTERVAL=2;WKST=SU""",
         window=("1997-09-01", "1998-06-01")),
    dict(id="rfc_weekly_tue_thu_until",
         ics="""DTSTART;TZID=America/New_York:19970902T090000
DURATION:PT1H
RRULE:FREQ=WEEKLY;UNTIL=19971007T000000Z;WKST=SU;BYDAY=TU,TH""",
         window=("1997-09-01", "1997-11-01")),
    dict(id="rfc_weekly_tue_thu_count10",
         ics="""DTSTART;TZID=America/New_York:19970902T090000
DURATION:PT1H
RRULE:FREQ=WEEKLY;COUNT=10;WKST=SU;BYDAY=TU,TH""",
         window=("1997-09-01", "1997-11-01")),
    dict(id="rfc_every_other_week_mwf_until",
         ics="""DTSTART;TZID=America/New_York:19970901T090000
DURATION:PT1H
RRULE:FREQ=WEEKLY;INTERVAL=2;UNTIL=19971224T000000Z;WKST=SU;BYDAY=MO,WE,FR""",
         window=("1997-09-01", "1998-01-01")),
    dict(id="rfc_every_other_week_tue_thu_count8",
         ics="""DTSTART;TZID=America/New_York:19970902T090000
DURATION:PT1H
RRULE:FREQ=WEEKLY;INTERVAL=2;COUNT=8;WKST=SU;BYDAY=TU,TH""",
         window=("1997-09-01", "1997-12-01")),
    dict(id="rfc_monthly_first_friday_count10",
         ics="""DTSTART;TZID=America/New_York:19970905T090000
DURATION:PT1H
RRULE:FREQ=MONTHLY;COUNT=10;BYDAY=1FR""",
         window=("1997-09-01", "1998-08-01")),
    dict(id="rfc_monthly_first_friday_until",
         ics="""DTSTART;TZID=America/New_York:19970905T090000
DURATION:PT1H
RRULE:FREQ=MONTHLY;UNTIL=19971224T000000Z;BYDAY=1FR""",
         window=("1997-09-01", "1998-02-01")),
    dict(id="rfc_every_other_month_first_last_sunday",
         ics="""DTSTART;TZID=America/New_York:19970907T090000
DURATION:PT1H
RRULE:FREQ=MONTHLY;INTERVAL=2;COUNT=10;BYDAY=1SU,-1SU""",
         window=("1997-09-01", "1998-09-01")),
    dict(id="rfc_monthly_second_to_last_monday",
         ics="""DTSTART;TZID=America/New_York:19970922T090000
DURATION:PT1H
RRULE:FREQ=MONTHLY;COUNT=6;BYDAY=-2MO""",
         window=("1997-09-01", "1998-04-01")),
    dict(id="rfc_monthly_third_to_last_day",
         ics="""DTSTART;TZID=America/New_York:19970928T090000
DURATION:PT1H
RRULE:FREQ=MONTHLY;BYMONTHDAY=-3""",
         window=("1997-09-01", "1998-09-01")),
    dict(id="rfc_monthly_2nd_and_15th",
         ics="""DTSTART;TZID=America/New_York:19970902T090000
DURATION:PT1H
RRULE:FREQ=MONTHLY;COUNT=10;BYMONTHDAY=2,15""",
         window=("1997-09-01", "1998-03-01")),
    dict(id="rfc_monthly_first_and_last_day",
         ics="""DTSTART;TZID=America/New_York:19970930T090000
DURATION:PT1H
RRULE:FREQ=MONTHLY;COUNT=10;BYMONTHDAY=1,-1""",
         window=("1997-09-01", "1998-03-01")),
    dict(id="rfc_every_18_months_10th_to_15th",
         ics="""DTSTART;TZID=America/New_York:19970910T090000
DURATION:PT1H
RRULE:FREQ=MONTHLY;INTERVAL=18;COUNT=10;BYMONTHDAY=10,11,12,13,14,15""",
         window=("1997-09-01", "1999-06-01")),
    dict(id="rfc_every_tuesday_every_other_month",
         ics="""DTSTART;TZID=America/New_York:19970902T090000
DURATION:PT1H
RRULE:FREQ=MONTHLY;INTERVAL=2;BYDAY=TU""",
         window=("1997-09-01", "1998-07-01")),
    dict(id="rfc_yearly_june_july_count10",
         ics="""DTSTART;TZID=America/New_York:19970610T090000
DURATION:PT1H
RRULE:FREQ=YEARLY;COUNT=10;BYMONTH=6,7""",
         window=("1997-06-01", "2002-08-01")),
    dict(id="rfc_every_other_year_jan_feb_mar",
         ics="""DTSTART;TZID=America/New_York:19970310T090000
DURATION:PT1H
RRULE:FREQ=YEARLY;INTERVAL=2;COUNT=10;BYMONTH=1,2,3""",
         window=("1997-03-01", "2003-04-01")),
    dict(id="rfc_every_third_year_day_1_100_200",
         ics="""DTSTART;TZID=America/New_York:19970101T090000
DURATION:PT1H
RRULE:FREQ=YEARLY;INTERVAL=3;COUNT=10;BYYEARDAY=1,100,200""",
         window=("1997-01-01", "2007-01-01")),
    dict(id="rfc_every_20th_monday",
         ics="""DTSTART;TZID=America/New_York:19970519T090000
DURATION:PT1H
RRULE:FREQ=YEARLY;BYDAY=20MO""",
         window=("1997-01-01", "2000-01-01"),
         disputed="icalendar 4.0.3 parses BYDAY ordinals of one digit only, so BYDAY=20MO is "
                  "lost and the library yields just DTSTART; RFC 5545 lists 1997-05-19, "
                  "1998-05-18, 1999-05-17 at 09:00 EDT",
         expected=["1997-05-19T13:00:00Z", "1998-05-18T13:00:00Z", "1999-05-17T13:00:00Z"]),
    dict(id="rfc_monday_of_week_20",
         ics="""DTSTART;TZID=America/New_York:19970512T090000
DURATION:PT1H
RRULE:FREQ=YEARLY;BYWEEKNO=20;BYDAY=MO""",
         window=("1997-01-01", "2000-01-01")),
    dict(id="rfc_every_thursday_in_march",
         ics="""DTSTART;TZID=America/New_York:19970313T090000
DURATION:PT1H
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=TH""",
         window=("1997-01-01", "2000-01-01")),
    dict(id="rfc_thursday_june_to_august",
         ics="""DTSTART;TZID=America/New_York:19970605T090000
DURATION:PT1H
RRULE:FREQ=YEARLY;BYDAY=TH;BYMONTH=6,7,8""",
         window=("1997-01-01", "2000-01-01")),
    dict(id="rfc_friday_13th",
         ics="""DTSTART;TZID=America/New_York:19970902T090000
DURATION:PT1H
EXDATE;TZID=America/New_York:19970902T090000
RRULE:FREQ=MONTHLY;BYDAY=FR;BYMONTHDAY=13""",
         window=("1997-09-01", "2001-01-01")),
    dict(id="rfc_first_saturday_after_first_sunday",
         ics="""DTSTART;TZID=America/New_York:19970913T090000
DURATION:PT1H
RRULE:FREQ=MONTHLY;BYDAY=SA;BYMONTHDAY=7,8,9,10,11,12,13""",
         window=("1997-09-01", "1998-07-01")),
    dict(id="rfc_us_presidential_election_day",
         ics="""DTSTART;TZID=America/New_York:19961105T090000
DURATION:PT1H
RRULE:FREQ=YEARLY;INTERVAL=4;BYMONTH=11;BYDAY=TU;BYMONTHDAY=2,3,4,5,6,7,8""",
         window=("1996-11-01", "2009-01-01")),
    dict(id="rfc_third_tue_wed_thu",
         ics="""DTSTART;TZID=America/New_York:19970904T090000
DURATION:PT1H
RRULE:FREQ=MONTHLY;COUNT=3;BYDAY=TU,WE,TH;BYSETPOS=3""",
         window=("1997-09-01", "1998-01-01")),
    dict(id="rfc_second_to_last_weekday",
         ics="""DTSTART;TZID=America/New_York:19970929T090000
DURATION:PT1H
RRULE:FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-2""",
         window=("1997-09-01", "1998-07-01")),
    dict(id="rfc_every_3_hours_until",
         ics="""DTSTART;TZID=America/New_York:19970902T090000
DURATION:PT30M
RRULE:FREQ=HOURLY;INTERVAL=3;UNTIL=19970902T170000Z""",
         window=("1997-09-01", "1997-09-04")),
    dict(id="rfc_every_15_minutes_count6",
         ics="""DTSTART;TZID=America/New_York:19970902T090000
DURATION:PT10M
RRULE:FREQ=MINUTELY;INTERVAL=15;COUNT=6""",
         window=("1997-09-01", "1997-09-04")),
    dict(id="rfc_every_90_minutes_count4",
         ics="""DTSTART;TZID=America/New_York:19970902T090000
DURATION:PT1H
RRULE:FREQ=MINUTELY;INTERVAL=90;COUNT=4""",
         window=("1997-09-01", "1997-09-04")),
    dict(id="rfc_every_20_minutes_9_to_1640_daily",
         ics="""DTSTART;TZID=America/New_York:19970902T090000
DURATION:PT15M
RRULE:FREQ=DAILY;BYHOUR=9,10,11,12,13,14,15,16;BYMINUTE=0,20,40;UNTIL=19970905T000000Z""",
         window=("1997-09-01", "1997-09-08"),
         note="the RFC's rule is unbounded (24 a day); UNTIL added for the 5000 cap"),
    dict(id="rfc_every_20_minutes_minutely",
         ics="""DTSTART;TZID=America/New_York:19970902T090000
DURATION:PT15M
RRULE:FREQ=MINUTELY;INTERVAL=20;BYHOUR=9,10,11,12,13,14,15,16;UNTIL=19970905T000000Z""",
         window=("1997-09-01", "1997-09-08"),
         note="the RFC's rule is unbounded; UNTIL added for the 5000 cap"),
    dict(id="rfc_wkst_mo",
         ics="""DTSTART;TZID=America/New_York:19970805T090000
DURATION:PT1H
RRULE:FREQ=WEEKLY;INTERVAL=2;COUNT=4;BYDAY=TU,SU;WKST=MO""",
         window=("1997-08-01", "1997-10-01")),
    dict(id="rfc_wkst_su",
         ics="""DTSTART;TZID=America/New_York:19970805T090000
DURATION:PT1H
RRULE:FREQ=WEEKLY;INTERVAL=2;COUNT=4;BYDAY=TU,SU;WKST=SU""",
         window=("1997-08-01", "1997-10-01")),
    dict(id="rfc_invalid_date_feb_30_skipped",
         ics="""DTSTART;TZID=America/New_York:20070115T090000
DURATION:PT1H
RRULE:FREQ=MONTHLY;BYMONTHDAY=15,30;COUNT=5""",
         window=("2007-01-01", "2007-06-01")),

    # ---- far ahead: series extended past the initial horizon (in steps, skipping ahead) ------
    dict(id="far_weekly_interval3_tue_sat_wkst_su",
         ics="""DTSTART;TZID=Europe/Berlin:20261201T180000
DURATION:PT1H
RRULE:FREQ=WEEKLY;INTERVAL=3;BYDAY=TU,SA;WKST=SU""",
         window=("2033-03-01", "2033-06-01")),
    dict(id="far_daily_interval5_byhour_ny_fall",
         ics="""DTSTART;TZID=America/New_York:20261203T080000
DURATION:PT1H
RRULE:FREQ=DAILY;INTERVAL=5;BYHOUR=8,20""",
         window=("2032-10-20", "2032-11-20")),
    dict(id="far_daily_0230_berlin_gap_2034",
         ics="""DTSTART;TZID=Europe/Berlin:20261205T023000
DURATION:PT30M
RRULE:FREQ=DAILY""",
         window=("2034-03-20", "2034-04-03")),
    dict(id="far_every_other_week_mwf_ny_spring",
         ics="""DTSTART;TZID=America/New_York:20261202T090000
DURATION:PT1H
RRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,WE,FR;WKST=SU""",
         window=("2031-02-20", "2031-04-01")),

    # ---- ordinals, negative BYMONTHDAY, BYSETPOS, leap days ----------------------------------
    dict(id="monthly_31st_skips_short_months",
         ics="""DTSTART;TZID=Europe/Berlin:20270131T100000
DURATION:PT1H
RRULE:FREQ=MONTHLY;COUNT=7""",
         window=("2027-01-01", "2028-03-01")),
    dict(id="monthly_last_day",
         ics="""DTSTART;TZID=Europe/Berlin:20270131T100000
DURATION:PT1H
RRULE:FREQ=MONTHLY;BYMONTHDAY=-1;COUNT=14""",
         window=("2027-01-01", "2028-06-01")),
    dict(id="monthly_negative_monthdays",
         ics="""DTSTART;TZID=Europe/Berlin:20270101T100000
DURATION:PT1H
RRULE:FREQ=MONTHLY;BYMONTHDAY=1,-1,-15,-31""",
         window=("2027-01-01", "2027-12-01")),
    dict(id="monthly_29_30_31_last_setpos",
         ics="""DTSTART;TZID=Europe/Berlin:20270131T100000
DURATION:PT1H
RRULE:FREQ=MONTHLY;BYMONTHDAY=29,30,31;BYSETPOS=-1""",
         window=("2027-01-01", "2028-12-01")),
    dict(id="monthly_last_workday_setpos",
         ics="""DTSTART;TZID=Europe/Berlin:20270129T170000
DURATION:PT1H
RRULE:FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1;COUNT=12""",
         window=("2027-01-01", "2028-01-01")),
    dict(id="monthly_first_and_last_weekday_setpos",
         ics="""DTSTART;TZID=Europe/Berlin:20270101T090000
DURATION:PT1H
RRULE:FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=1,-1;UNTIL=20271231T230000Z""",
         window=("2027-01-01", "2028-01-01")),
    dict(id="monthly_last_friday",
         ics="""DTSTART;TZID=Europe/Berlin:20270129T150000
DURATION:PT1H
RRULE:FREQ=MONTHLY;BYDAY=-1FR""",
         window=("2027-01-01", "2027-12-01")),
    dict(id="monthly_fifth_friday",
         ics="""DTSTART;TZID=America/New_York:20270129T150000
DURATION:PT1H
RRULE:FREQ=MONTHLY;BYDAY=5FR""",
         window=("2027-01-01", "2028-01-01")),
    dict(id="quarterly_last_wednesday",
         ics="""DTSTART;TZID=America/New_York:20270127T110000
DURATION:PT1H
RRULE:FREQ=MONTHLY;INTERVAL=3;BYDAY=-1WE""",
         window=("2027-01-01", "2028-01-01")),
    dict(id="yearly_memorial_day_setpos",
         ics="""DTSTART;TZID=America/New_York:20270531T100000
DURATION:PT1H
RRULE:FREQ=YEARLY;BYMONTH=5;BYDAY=MO;BYSETPOS=-1""",
         window=("2027-01-01", "2031-01-01")),
    dict(id="yearly_thanksgiving",
         ics="""DTSTART;TZID=America/New_York:20271125T120000
DURATION:PT4H
RRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=4TH""",
         window=("2027-01-01", "2031-01-01")),
    dict(id="yearly_last_sunday_of_october",
         ics="""DTSTART;TZID=Europe/Berlin:20271031T120000
DURATION:PT1H
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU""",
         window=("2027-01-01", "2031-01-01")),
    dict(id="yearly_feb_29",
         ics="""DTSTART;TZID=Europe/Berlin:20240229T120000
DURATION:PT1H
RRULE:FREQ=YEARLY;COUNT=3""",
         window=("2024-01-01", "2033-01-01")),
    dict(id="yearly_last_day_of_february",
         ics="""DTSTART;TZID=Europe/Berlin:20270228T120000
DURATION:PT1H
RRULE:FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=-1""",
         window=("2027-01-01", "2031-01-01")),
    dict(id="yearly_day_366",
         ics="""DTSTART;TZID=Europe/Berlin:20241231T120000
DURATION:PT1H
RRULE:FREQ=YEARLY;BYYEARDAY=366""",
         window=("2024-01-01", "2033-01-01")),
    dict(id="yearly_negative_yearday",
         ics="""DTSTART;TZID=Europe/Berlin:20261231T120000
DURATION:PT1H
RRULE:FREQ=YEARLY;BYYEARDAY=-1,-365;COUNT=6""",
         window=("2026-01-01", "2030-01-01")),
    dict(id="yearly_week_53_thursday",
         ics="""DTSTART;TZID=Europe/Berlin:20261231T120000
DURATION:PT1H
RRULE:FREQ=YEARLY;BYWEEKNO=53;BYDAY=TH""",
         window=("2026-01-01", "2035-01-01")),
    dict(id="yearly_last_week_monday",
         ics="""DTSTART;TZID=Europe/Berlin:20261228T120000
DURATION:PT1H
RRULE:FREQ=YEARLY;BYWEEKNO=-1;BYDAY=MO""",
         window=("2026-01-01", "2031-01-01")),
    dict(id="yearly_bymonthday_without_bymonth",
         ics="""DTSTART;TZID=Europe/Berlin:20270115T100000
DURATION:PT1H
RRULE:FREQ=YEARLY;BYMONTHDAY=15;COUNT=14""",
         window=("2027-01-01", "2028-04-01"),
         note="RFC 5545: BYMONTHDAY under YEARLY expands to every month"),
    dict(id="yearly_first_and_last_monday_of_year",
         ics="""DTSTART;TZID=Europe/Berlin:20270104T100000
DURATION:PT1H
RRULE:FREQ=YEARLY;BYDAY=1MO,-1MO""",
         window=("2027-01-01", "2031-01-01")),
    dict(id="yearly_53rd_monday",
         ics="""DTSTART;TZID=Europe/Berlin:20291231T120000
DURATION:PT1H
RRULE:FREQ=YEARLY;BYDAY=53MO""",
         window=("2029-01-01", "2036-01-01"),
         disputed="icalendar 4.0.3 parses BYDAY ordinals of one digit only, so BYDAY=53MO is "
                  "lost and the library yields just DTSTART; 2029 and 2035 both start on a "
                  "Monday and have 53 Mondays (the other years have 52)",
         expected=["2029-12-31T11:00:00Z", "2035-12-31T11:00:00Z"]),
    dict(id="yearly_yearday_limited_by_month",
         ics="""DTSTART;TZID=Europe/Berlin:20270201T100000
DURATION:PT1H
RRULE:FREQ=YEARLY;BYYEARDAY=1,32,60,91,-1;BYMONTH=2,3""",
         window=("2027-01-01", "2030-01-01"),
         unsupported="BYYEARDAY limited by BYMONTH: libical 3.0 expands it wrongly, so the"
                     " server refuses the rule (422) rather than store wrong occurrences",
         note="day 60 is March 1, or February 29 in 2028; day 91 is in March only in 2028"),
    dict(id="monthly_first_monday_in_jan_and_jul",
         ics="""DTSTART;TZID=America/New_York:20270104T100000
DURATION:PT1H
RRULE:FREQ=MONTHLY;BYMONTH=1,7;BYDAY=1MO""",
         window=("2027-01-01", "2030-01-01")),
    dict(id="daily_last_two_days_of_month",
         ics="""DTSTART;TZID=America/New_York:20270130T090000
DURATION:PT1H
RRULE:FREQ=DAILY;BYMONTHDAY=-1,-2;COUNT=8""",
         window=("2027-01-01", "2027-06-01")),
    dict(id="hourly_interval5_weekends_utc",
         ics="""DTSTART:20270102T010000Z
DURATION:PT1H
RRULE:FREQ=HOURLY;INTERVAL=5;BYDAY=SA,SU;COUNT=12""",
         window=("2027-01-01", "2027-02-01")),
    dict(id="hourly_count1500_paged",
         ics="""DTSTART:20270101T000000Z
DURATION:PT30M
RRULE:FREQ=HOURLY;COUNT=1500""",
         window=("2027-01-01", "2027-03-15"),
         note="more than one page of 1000 in one query: next_cursor is followed"),
    dict(id="yearly_weekno_1_monday",
         ics="""DTSTART;TZID=Europe/Berlin:20270104T120000
DURATION:PT1H
RRULE:FREQ=YEARLY;BYWEEKNO=1;BYDAY=MO""",
         window=("2027-01-01", "2033-01-01"),
         note="week 1 of 2030, 2031 and 2032 starts in the December before"),
    dict(id="yearly_weekno_1_sunday_wkst_su",
         ics="""DTSTART;TZID=Europe/Berlin:20270103T120000
DURATION:PT1H
RRULE:FREQ=YEARLY;BYWEEKNO=1;BYDAY=SU;WKST=SU""",
         window=("2027-01-01", "2033-01-01")),
    dict(id="yearly_weekno_1_sunday_wkst_mo",
         ics="""DTSTART;TZID=Europe/Berlin:20270110T120000
DURATION:PT1H
RRULE:FREQ=YEARLY;BYWEEKNO=1;BYDAY=SU;WKST=MO""",
         window=("2027-01-01", "2033-01-01")),
    dict(id="yearly_weekno_53_friday_in_january",
         ics="""DTSTART;TZID=Europe/Berlin:20270101T120000
DURATION:PT1H
RRULE:FREQ=YEARLY;BYWEEKNO=53;BYDAY=FR""",
         window=("2027-01-01", "2034-01-01"),
         note="2027-01-01 is the Friday of week 53 of 2026"),
    dict(id="until_equals_occurrence_utc",
         ics="""DTSTART;TZID=Europe/Berlin:20270104T100000
DURATION:PT1H
RRULE:FREQ=WEEKLY;UNTIL=20270118T090000Z""",
         window=("2027-01-01", "2027-03-01"),
         note="UNTIL is inclusive: 2027-01-18 10:00 Berlin is exactly 09:00Z"),
    dict(id="weekly_interval3_weekend_wkst_su",
         ics="""DTSTART;TZID=Europe/Berlin:20270102T100000
DURATION:PT1H
RRULE:FREQ=WEEKLY;INTERVAL=3;BYDAY=SA,SU;WKST=SU;COUNT=8""",
         window=("2027-01-01", "2027-06-01")),
    dict(id="weekly_interval3_weekend_wkst_mo",
         ics="""DTSTART;TZID=Europe/Berlin:20270102T100000
DURATION:PT1H
RRULE:FREQ=WEEKLY;INTERVAL=3;BYDAY=SA,SU;WKST=MO;COUNT=8""",
         window=("2027-01-01", "2027-06-01")),
    dict(id="daily_weekdays_count15",
         ics="""DTSTART;TZID=Europe/Berlin:20270104T083000
DTEND;TZID=Europe/Berlin:20270104T090000
RRULE:FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR;COUNT=15""",
         window=("2027-01-01", "2027-02-01")),
    dict(id="utc_dtstart_weekly",
         ics="""DTSTART:20261201T090000Z
DTEND:20261201T100000Z
RRULE:FREQ=WEEKLY;BYDAY=TU,FR;UNTIL=20270301T000000Z""",
         window=("2026-12-01", "2027-04-01")),

    # ---- DST gaps and overlaps ---------------------------------------------------------------
    dict(id="berlin_daily_0230_spring_gap",
         ics="""DTSTART;TZID=Europe/Berlin:20270325T023000
DURATION:PT30M
RRULE:FREQ=DAILY;COUNT=6""",
         window=("2027-03-20", "2027-04-05"),
         note="2027-03-28 02:30 does not exist: RFC 5545 reads it with the offset before the "
              "gap (+01:00), i.e. 01:30Z"),
    dict(id="berlin_daily_0230_fall_overlap",
         ics="""DTSTART;TZID=Europe/Berlin:20261022T023000
DURATION:PT30M
RRULE:FREQ=DAILY;COUNT=6""",
         window=("2026-10-20", "2026-11-01"),
         disputed="2026-10-25 02:30 Berlin happens twice; RFC 5545 (3.3.5) takes the first "
                  "(+02:00, 00:30Z), the library (pytz localize is_dst=False) the second (01:30Z)",
         expected=["2026-10-22T00:30:00Z", "2026-10-23T00:30:00Z", "2026-10-24T00:30:00Z",
                   "2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z", "2026-10-27T01:30:00Z"]),
    dict(id="berlin_weekly_across_both_transitions",
         ics="""DTSTART;TZID=Europe/Berlin:20270301T090000
DURATION:PT1H
RRULE:FREQ=WEEKLY;BYDAY=MO;UNTIL=20271201T000000Z""",
         window=("2027-03-01", "2027-12-01")),
    dict(id="berlin_monthly_last_sunday_0230",
         ics="""DTSTART;TZID=Europe/Berlin:20270131T023000
DURATION:PT30M
RRULE:FREQ=MONTHLY;BYDAY=-1SU;COUNT=12""",
         window=("2027-01-01", "2028-01-01"),
         disputed="2027-03-28 02:30 (gap) is 01:30Z by both; 2027-10-31 02:30 happens twice: "
                  "RFC 5545 takes the first (00:30Z), the library the second (01:30Z)",
         expected=["2027-01-31T01:30:00Z", "2027-02-28T01:30:00Z", "2027-03-28T01:30:00Z",
                   "2027-04-25T00:30:00Z", "2027-05-30T00:30:00Z", "2027-06-27T00:30:00Z",
                   "2027-07-25T00:30:00Z", "2027-08-29T00:30:00Z", "2027-09-26T00:30:00Z",
                   "2027-10-31T00:30:00Z", "2027-11-28T01:30:00Z", "2027-12-26T01:30:00Z"]),
    dict(id="berlin_daily_byhour_across_spring_gap",
         ics="""DTSTART;TZID=Europe/Berlin:20270326T013000
DURATION:PT20M
RRULE:FREQ=DAILY;BYHOUR=1,2,3;BYMINUTE=30;UNTIL=20270328T120000Z""",
         window=("2027-03-25", "2027-03-30"),
         note="on 2027-03-28 02:30 (gap, +01:00) and 03:30 (+02:00) are the same instant, "
              "01:30Z: one occurrence"),
    dict(id="berlin_exdate_in_spring_gap",
         ics="""DTSTART;TZID=Europe/Berlin:20270326T023000
DURATION:PT30M
RRULE:FREQ=DAILY;COUNT=5
EXDATE;TZID=Europe/Berlin:20270328T023000""",
         window=("2027-03-20", "2027-04-05")),
    dict(id="berlin_exdate_in_fall_overlap",
         ics="""DTSTART;TZID=Europe/Berlin:20271029T023000
DURATION:PT30M
RRULE:FREQ=DAILY;COUNT=5
EXDATE;TZID=Europe/Berlin:20271031T023000""",
         window=("2027-10-25", "2027-11-05"),
         note="the EXDATE and the occurrence read the ambiguous 02:30 the same way"),
    dict(id="berlin_rdate_in_fall_overlap",
         ics="""DTSTART;TZID=Europe/Berlin:20271020T100000
DURATION:PT30M
RRULE:FREQ=WEEKLY;COUNT=2
RDATE;TZID=Europe/Berlin:20271031T023000""",
         window=("2027-10-15", "2027-11-05"),
         disputed="RDATE 2027-10-31 02:30 Berlin happens twice; RFC 5545 (3.3.5) takes the "
                  "first (+02:00, 00:30Z), icalendar/pytz the second (01:30Z)",
         expected=["2027-10-20T08:00:00Z", "2027-10-27T08:00:00Z", "2027-10-31T00:30:00Z"]),
    dict(id="ny_daily_0230_spring_gap",
         ics="""DTSTART;TZID=America/New_York:20270312T023000
DURATION:PT30M
RRULE:FREQ=DAILY;COUNT=5""",
         window=("2027-03-10", "2027-03-20"),
         note="2027-03-14 02:30 does not exist: read with -05:00, i.e. 07:30Z"),
    dict(id="ny_monthly_second_sunday_0230",
         ics="""DTSTART;TZID=America/New_York:20270110T023000
DURATION:PT30M
RRULE:FREQ=MONTHLY;BYDAY=2SU;COUNT=6""",
         window=("2027-01-01", "2027-07-01"),
         note="2027-03-14 (second Sunday of March) 02:30 falls in the gap"),
    dict(id="ny_daily_0130_fall_overlap",
         ics="""DTSTART;TZID=America/New_York:20271105T013000
DURATION:PT30M
RRULE:FREQ=DAILY;COUNT=5""",
         window=("2027-11-01", "2027-11-12"),
         disputed="2027-11-07 01:30 New York happens twice; RFC 5545 takes the first (EDT, "
                  "05:30Z), the library the second (EST, 06:30Z)",
         expected=["2027-11-05T05:30:00Z", "2027-11-06T05:30:00Z", "2027-11-07T05:30:00Z",
                   "2027-11-08T06:30:00Z", "2027-11-09T06:30:00Z"]),
    dict(id="ny_daily_until_equals_occurrence_after_spring",
         ics="""DTSTART;TZID=America/New_York:20270310T090000
DURATION:PT1H
RRULE:FREQ=DAILY;UNTIL=20270316T130000Z""",
         window=("2027-03-01", "2027-04-01"),
         disputed="UNTIL is inclusive (RFC 5545 3.3.10) and 2027-03-16 09:00 EDT is exactly "
                  "13:00Z; dateutil compares UNTIL with the occurrences carrying DTSTART's fixed "
                  "EST offset (14:00Z), so the library drops the last occurrence",
         expected=["2027-03-10T14:00:00Z", "2027-03-11T14:00:00Z", "2027-03-12T14:00:00Z",
                   "2027-03-13T14:00:00Z", "2027-03-14T13:00:00Z", "2027-03-15T13:00:00Z",
                   "2027-03-16T13:00:00Z"]),
    dict(id="moscow_daily_0230_last_spring_gap_2011",
         ics="""DTSTART;TZID=Europe/Moscow:20110325T023000
DURATION:PT30M
RRULE:FREQ=DAILY;COUNT=5""",
         window=("2011-03-20", "2011-04-01"),
         note="Moscow's last DST change: 2011-03-27 02:00 +03:00 -> 03:00 +04:00, then none"),
    dict(id="moscow_no_dst_after_2011",
         ics="""DTSTART;TZID=Europe/Moscow:20120320T023000
DURATION:PT30M
RRULE:FREQ=WEEKLY;UNTIL=20121115T000000Z""",
         window=("2012-03-01", "2012-12-01"),
         note="2012: +04:00 all year, no gap in March, no overlap in October"),
    dict(id="moscow_weekly_2014_offset_change",
         ics="""DTSTART;TZID=Europe/Moscow:20141019T013000
DURATION:PT30M
RRULE:FREQ=WEEKLY;COUNT=3""",
         window=("2014-10-10", "2014-11-10"),
         disputed="2014-10-26 02:00 +04:00 -> 01:00 +03:00 makes 01:30 happen twice; RFC 5545 "
                  "takes the first (+04:00, 21:30Z the day before), the library the second "
                  "(22:30Z)",
         expected=["2014-10-18T21:30:00Z", "2014-10-25T21:30:00Z", "2014-11-01T22:30:00Z"]),
    dict(id="lord_howe_daily_0215_half_hour_gap",
         ics="""DTSTART;TZID=Australia/Lord_Howe:20271001T021500
DURATION:PT10M
RRULE:FREQ=DAILY;COUNT=5""",
         window=("2027-09-28", "2027-10-08"),
         note="Lord Howe springs forward by 30 minutes (02:00 -> 02:30 on 2027-10-03)"),
    dict(id="sydney_weekly_across_april_and_october",
         ics="""DTSTART;TZID=Australia/Sydney:20270301T090000
DURATION:PT1H
RRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=MO;UNTIL=20271130T000000Z""",
         window=("2027-03-01", "2027-12-01")),

    # ---- EXDATE / RDATE ----------------------------------------------------------------------
    dict(id="exdate_utc",
         ics="""DTSTART;TZID=Europe/Berlin:20261130T080000
DURATION:PT1H
RRULE:FREQ=WEEKLY;BYDAY=MO;UNTIL=20270301T000000Z
EXDATE:20261207T070000Z""",
         window=("2026-11-30", "2027-03-01")),
    dict(id="exdate_tzid_list",
         ics="""DTSTART;TZID=Europe/Berlin:20261130T080000
DURATION:PT1H
RRULE:FREQ=WEEKLY;BYDAY=MO;UNTIL=20270301T000000Z
EXDATE;TZID=Europe/Berlin:20261214T080000,20261228T080000""",
         window=("2026-11-30", "2027-03-01")),
    dict(id="exdate_other_tzid",
         ics="""DTSTART;TZID=Europe/Berlin:20261130T080000
DURATION:PT1H
RRULE:FREQ=WEEKLY;BYDAY=MO;UNTIL=20270301T000000Z
EXDATE;TZID=America/New_York:20261214T020000""",
         window=("2026-11-30", "2027-03-01")),
    dict(id="exdate_not_matching_is_ignored",
         ics="""DTSTART;TZID=Europe/Berlin:20261130T080000
DURATION:PT1H
RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=6
EXDATE:20261207T080000Z
EXDATE;TZID=Europe/Berlin:20261215T080000""",
         window=("2026-11-30", "2027-03-01")),
    dict(id="exdate_dtstart_and_count",
         ics="""DTSTART;TZID=Europe/Berlin:20270104T100000
DURATION:PT1H
RRULE:FREQ=DAILY;COUNT=5
EXDATE;TZID=Europe/Berlin:20270104T100000,20270106T100000""",
         window=("2027-01-01", "2027-02-01"),
         note="EXDATE removes occurrences after COUNT is applied: three remain"),
    dict(id="exdate_across_dst",
         ics="""DTSTART;TZID=America/New_York:20270301T090000
DURATION:PT1H
RRULE:FREQ=WEEKLY;COUNT=6
EXDATE:20270315T130000Z
EXDATE;TZID=America/New_York:20270322T090000""",
         window=("2027-03-01", "2027-05-01")),
    dict(id="rdate_utc_and_tzid",
         ics="""DTSTART;TZID=Europe/Berlin:20261130T080000
DURATION:PT1H
RRULE:FREQ=WEEKLY;BYDAY=MO;UNTIL=20270201T000000Z
RDATE:20261224T150000Z
RDATE;TZID=Europe/Berlin:20261231T100000,20270102T100000""",
         window=("2026-11-30", "2027-03-01")),
    dict(id="rdate_duplicate_of_rule_occurrence",
         ics="""DTSTART;TZID=Europe/Berlin:20261130T080000
DURATION:PT1H
RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=4
RDATE;TZID=Europe/Berlin:20261207T080000
RDATE:20261214T070000Z""",
         window=("2026-11-30", "2027-01-01")),
    dict(id="rdate_and_exdate_same_instant",
         ics="""DTSTART;TZID=Europe/Berlin:20261130T080000
DURATION:PT1H
RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=4
RDATE:20261209T120000Z
EXDATE;TZID=Europe/Berlin:20261209T130000""",
         window=("2026-11-30", "2027-01-01")),
    dict(id="rdate_after_until_and_before_dtstart_window",
         ics="""DTSTART;TZID=America/New_York:20270104T090000
DURATION:PT1H
RRULE:FREQ=WEEKLY;UNTIL=20270201T000000Z
RDATE;TZID=America/New_York:20270415T140000
RDATE:20270701T120000Z""",
         window=("2027-01-01", "2027-08-01")),
    dict(id="exdate_multi_utc_values_rdate_value_datetime",
         ics="""DTSTART;TZID=Europe/Berlin:20261130T080000
DURATION:PT1H
RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=8
EXDATE:20261207T070000Z,20261214T070000Z
RDATE;VALUE=DATE-TIME:20261224T150000Z""",
         window=("2026-11-30", "2027-03-01")),
    dict(id="count_not_changed_by_rdate_and_exdate",
         ics="""DTSTART;TZID=America/New_York:20270104T090000
DURATION:PT1H
RRULE:FREQ=DAILY;COUNT=4
RDATE;TZID=America/New_York:20270105T170000
EXDATE;TZID=America/New_York:20270106T090000""",
         window=("2027-01-01", "2027-02-01")),
    dict(id="rdate_before_dtstart",
         ics="""DTSTART;TZID=Europe/Berlin:20270110T100000
DURATION:PT1H
RRULE:FREQ=WEEKLY;COUNT=3
RDATE;TZID=Europe/Berlin:20270105T100000""",
         window=("2027-01-01", "2027-02-01"),
         note="RFC 5545 puts every RDATE in the recurrence set, wherever it falls; the server "
              "accepts the line, so it must list the occurrence"),
    dict(id="rdate_only_no_rrule",
         ics="""DTSTART;TZID=Europe/Berlin:20270105T100000
DURATION:PT1H
RDATE;TZID=Europe/Berlin:20270112T100000,20270330T100000
RDATE:20270401T070000Z""",
         window=("2027-01-01", "2027-05-01")),

    # ---- overrides (RECURRENCE-ID) and cancelled occurrences -----------------------------------
    dict(id="override_moved_later_same_day",
         ics="""DTSTART;TZID=Europe/Berlin:20261201T090000
DURATION:PT1H
RRULE:FREQ=WEEKLY;BYDAY=TU;COUNT=6""",
         overrides=["""RECURRENCE-ID;TZID=Europe/Berlin:20261215T090000
DTSTART;TZID=Europe/Berlin:20261215T140000
DTEND;TZID=Europe/Berlin:20261215T153000"""],
         window=("2026-12-01", "2027-02-01")),
    dict(id="override_moved_to_other_day_and_exdate",
         ics="""DTSTART;TZID=America/New_York:20270301T090000
DURATION:PT1H
RRULE:FREQ=DAILY;BYDAY=MO,WE,FR;COUNT=9
EXDATE;TZID=America/New_York:20270305T090000""",
         overrides=["""RECURRENCE-ID;TZID=America/New_York:20270310T090000
DTSTART;TZID=America/New_York:20270311T160000
DURATION:PT1H""",
                    """RECURRENCE-ID;TZID=America/New_York:20270315T090000
DTSTART;TZID=America/New_York:20270315T080000
DURATION:PT2H"""],
         window=("2027-03-01", "2027-04-01")),
    dict(id="override_moved_out_of_window",
         ics="""DTSTART;TZID=Europe/Berlin:20270104T100000
DURATION:PT1H
RRULE:FREQ=WEEKLY;COUNT=8""",
         overrides=["""RECURRENCE-ID;TZID=Europe/Berlin:20270125T100000
DTSTART;TZID=Europe/Berlin:20270310T100000
DURATION:PT1H"""],
         window=("2027-01-01", "2027-03-01")),
    dict(id="override_moved_into_window",
         ics="""DTSTART;TZID=Europe/Berlin:20270104T100000
DURATION:PT1H
RRULE:FREQ=WEEKLY;COUNT=12""",
         overrides=["""RECURRENCE-ID;TZID=Europe/Berlin:20270315T100000
DTSTART;TZID=Europe/Berlin:20270112T150000
DURATION:PT1H"""],
         window=("2027-01-01", "2027-02-01")),
    dict(id="cancel_two_occurrences",
         ics="""DTSTART;TZID=Europe/Berlin:20270104T100000
DURATION:PT1H
RRULE:FREQ=WEEKLY;COUNT=6""",
         cancel=["RECURRENCE-ID;TZID=Europe/Berlin:20270111T100000",
                 "RECURRENCE-ID;TZID=Europe/Berlin:20270201T100000"],
         window=("2027-01-01", "2027-03-01")),
    dict(id="cancel_overridden_occurrence",
         ics="""DTSTART;TZID=America/New_York:20270301T090000
DURATION:PT1H
RRULE:FREQ=WEEKLY;COUNT=5""",
         overrides=["""RECURRENCE-ID;TZID=America/New_York:20270308T090000
DTSTART;TZID=America/New_York:20270309T090000
DURATION:PT1H""",
                    """RECURRENCE-ID;TZID=America/New_York:20270315T090000
DTSTART;TZID=America/New_York:20270315T110000
DURATION:PT30M"""],
         cancel=["RECURRENCE-ID;TZID=America/New_York:20270308T090000"],
         window=("2027-03-01", "2027-05-01")),
    dict(id="long_timed_event_across_window_start",
         ics="""DTSTART;TZID=America/New_York:20270104T090000
DURATION:PT50H
RRULE:FREQ=WEEKLY;COUNT=6""",
         window=("2027-01-05", "2027-02-10"),
         note="the 2027-01-04 occurrence overlaps the window but starts before it"),

    # ---- all-day -----------------------------------------------------------------------------
    dict(id="allday_yearly_birthday",
         ics="""DTSTART;VALUE=DATE:19900315
DTEND;VALUE=DATE:19900316
RRULE:FREQ=YEARLY""",
         window=("2025-01-01", "2031-01-01"), time_zone="Europe/Berlin"),
    dict(id="allday_yearly_feb29_birthday",
         ics="""DTSTART;VALUE=DATE:20000229
DTEND;VALUE=DATE:20000301
RRULE:FREQ=YEARLY""",
         window=("2023-01-01", "2034-01-01"), time_zone="America/New_York"),
    dict(id="allday_weekly_mo_th_count10",
         ics="""DTSTART;VALUE=DATE:20261207
DTEND;VALUE=DATE:20261208
RRULE:FREQ=WEEKLY;BYDAY=MO,TH;COUNT=10""",
         window=("2026-12-01", "2027-02-01")),
    dict(id="allday_weekly_exdate_rdate",
         ics="""DTSTART;VALUE=DATE:20261203
DTEND;VALUE=DATE:20261204
RRULE:FREQ=WEEKLY;UNTIL=20270201
EXDATE;VALUE=DATE:20261224,20261231
RDATE;VALUE=DATE:20261223""",
         window=("2026-12-01", "2027-03-01"), time_zone="Pacific/Auckland"),
    dict(id="allday_daily_across_dst",
         ics="""DTSTART;VALUE=DATE:20270325
DTEND;VALUE=DATE:20270326
RRULE:FREQ=DAILY;UNTIL=20270402""",
         window=("2027-03-20", "2027-04-10"), time_zone="Europe/Berlin"),
    dict(id="allday_multiday_every_other_week",
         ics="""DTSTART;VALUE=DATE:20270301
DURATION:P3D
RRULE:FREQ=WEEKLY;INTERVAL=2;COUNT=6""",
         window=("2027-03-01", "2027-06-01"), time_zone="America/Los_Angeles"),
    dict(id="allday_monthly_last_day",
         ics="""DTSTART;VALUE=DATE:20270131
DTEND;VALUE=DATE:20270201
RRULE:FREQ=MONTHLY;BYMONTHDAY=-1;COUNT=13""",
         window=("2027-01-01", "2028-03-01"), time_zone="Asia/Tokyo"),
    dict(id="allday_override_moved",
         ics="""DTSTART;VALUE=DATE:20270104
DTEND;VALUE=DATE:20270105
RRULE:FREQ=WEEKLY;COUNT=5""",
         overrides=["""RECURRENCE-ID;VALUE=DATE:20270118
DTSTART;VALUE=DATE:20270120
DTEND;VALUE=DATE:20270121"""],
         window=("2027-01-01", "2027-03-01"), time_zone="Europe/Berlin"),
    dict(id="allday_daily_across_fall_dst",
         ics="""DTSTART;VALUE=DATE:20271028
DTEND;VALUE=DATE:20271029
RRULE:FREQ=DAILY;UNTIL=20271103""",
         window=("2027-10-25", "2027-11-10"), time_zone="Europe/Berlin",
         note="2027-10-31 has 25 hours in Berlin: that day still ends at the next midnight"),
    dict(id="allday_weekly_from_23_hour_day",
         ics="""DTSTART;VALUE=DATE:20270328
DTEND;VALUE=DATE:20270329
RRULE:FREQ=WEEKLY;COUNT=4""",
         window=("2027-03-20", "2027-05-01"), time_zone="Europe/Berlin",
         note="DTSTART's day has 23 hours; the others have 24 and each lasts one whole day"),
    dict(id="allday_santiago_midnight_gap",
         ics="""DTSTART;VALUE=DATE:20270902
DTEND;VALUE=DATE:20270903
RRULE:FREQ=DAILY;COUNT=6""",
         window=("2027-08-30", "2027-09-10"), time_zone="America/Santiago",
         note="Chile moves 24:00 to 01:00 on 2027-09-05: that day has no midnight"),
    dict(id="allday_cancel_occurrence",
         ics="""DTSTART;VALUE=DATE:20270105
DTEND;VALUE=DATE:20270106
RRULE:FREQ=WEEKLY;COUNT=5""",
         cancel=["RECURRENCE-ID;VALUE=DATE:20270119"],
         window=("2027-01-01", "2027-03-01"), time_zone="America/New_York"),
]
