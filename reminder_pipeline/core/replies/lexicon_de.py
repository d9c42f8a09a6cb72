"""German: how customers say they paid, dispute, promise, want a call, opt out or in, need help.

Umlauts in these tables also match ae/oe/ue ("nächste" finds "naechste"), ß matches "ss".
"""

from __future__ import annotations

from reminder_pipeline.core.replies import calendar_rules as rules
from reminder_pipeline.core.replies.intents import ReplyIntent as I
from reminder_pipeline.core.replies.lexicon import Lexicon, Tables, alternation

t = Tables(umlaut_e=True)

WEEKDAYS, _ = t.calendar_words(
    (
        ("montag",),
        ("dienstag",),
        ("mittwoch",),
        ("donnerstag",),
        ("freitag",),
        ("samstag", "sonnabend"),
        ("sonntag",),
    )
)
MONTHS, MONTH_NUMBERS = t.calendar_words(
    (
        ("januar", "jan", "jänner"),
        ("februar", "feb"),
        ("märz",),
        ("april", "apr"),
        ("mai",),
        ("juni",),
        ("juli",),
        ("august", "aug"),
        ("september", "sept"),
        ("oktober", "okt"),
        ("november", "nov"),
        ("dezember", "dez"),
    )
)
MONTH = f"(?P<month>{alternation(MONTHS)})"
NUMBERS = {"ein": 1, "einer": 1, "einem": 1, "eine": 1, "zwei": 2, "drei": 3, "vier": 4, "fünf": 5, "sechs": 6}
NUMBERS |= {"sieben": 7, "acht": 8, "zehn": 10, "vierzehn": 14, "zwanzig": 20, "dreißig": 30}
NUMBERS |= {"ein paar": 3, "paar": 3, "wenigen": 3, "einigen": 3}
NUMBERS = {spelling: n for word, n in NUMBERS.items() for spelling in t.spellings(word)}
UNITS = {"tag": rules.Unit.DAY, "tagen": rules.Unit.DAY, "tage": rules.Unit.DAY, "woche": rules.Unit.WEEK}
UNITS |= {"wochen": rules.Unit.WEEK, "monat": rules.Unit.MONTH, "monaten": rules.Unit.MONTH}
NEXT = r"(?:nächste|nächster|nächsten|kommende|kommender|kommenden)"
NEAR = r"(?:[^.?!]|(?<=\d)\.)"
"""A window within one sentence; the dot of an ordinal ("am 28. Februar") does not end it."""
PARTICIPLE = r"(?:bezahlt|gezahlt|überwiesen|beglichen|eingezahlt|erledigt|angewiesen|veranlasst)"

SPECIFIC = (
    *t.cues(I.OTHER, 0.85, r"\b(?:falsche nummer|falsch verbunden|nicht meine nummer|falsche person)\b"),
    *t.cues(
        I.DISPUTE,
        0.85,
        rf"\b(?:werde|will|muss|werden)\b{NEAR}{{0,30}}\b(?:nicht|nichts) (?:be)?zahlen\b",
        r"\bzahle (?:ich )?(?:nicht|nichts)\b",
    ),
    *t.cues(
        I.OTHER,
        0.7,
        rf"\bkann\b{NEAR}{{0,25}}\b(?:nicht|nichts) (?:be)?zahlen\b",
        r"\b(?:arbeitslos|kein geld|finanzielle (?:probleme|schwierigkeiten)|krank|im krankenhaus)\b",
    ),
    *t.cues(I.OTHER, 0.55, rf"\b(?:noch nicht|nicht|noch gar nicht|gar nicht)\s+{PARTICIPLE}\b"),
    *t.cues(
        I.HELP,
        0.85,
        r"\bwie (?:kann|soll|muss|können) (?:ich|wir) (?:das |die rechnung )?(?:be)?zahlen\b",
        r"\bwie (?:zahle|bezahle) ich\b",
    ),
    *t.cues(I.PROMISE_TO_PAY, 0.8, rf"\bsobald\b{NEAR}{{0,30}}\b(?:gehalt|geld|lohn|rente)\b"),
)

CUES = (
    *t.cues(
        I.OPT_OUT,
        0.95,
        r"\bkeine (?:sms|nachrichten|mails|e-mails|emails|erinnerungen|anrufe|mahnungen|werbung)(?: mehr)?\b",
        r"\b(?:nicht|nie) mehr (?:schreiben|kontaktieren|anschreiben|anrufen|belästigen|zu schreiben|simsen)\b",
        r"\b(?:schreiben|simsen|mailen|kontaktieren|belästigen) sie (?:mir|mich) nicht mehr\b",
        rf"\bhör(?:t|en sie)? (?:bitte )?auf\b{NEAR}{{0,20}}"
        r"\b(?:schreiben|senden|schicken|kontaktieren|anzurufen|nerven)\b",
        r"\b(?:abmelden|abbestellen|austragen)\b",
        r"\bunterlassen sie\b",
        r"\b(?:nehmen|streichen|löschen|entfernen) sie (?:bitte )?(?:meine nummer|mich|meine daten)\b",
        r"\blassen sie mich in ruhe\b",
    ),
    *t.cues(I.OPT_OUT, 0.85, r"\b(?:mir|mich) (?:\w+ )?nicht mehr\b"),
    *t.cues(
        I.DISPUTE,
        0.9,
        r"\bnicht (?:von mir|meine|mein|meiner|unsere|für mich)\b",
        rf"\bnie\b{NEAR}{{0,30}}\b(?:bestellt|erhalten|bekommen|unterschrieben|abgeschlossen|genutzt|gekauft|gehört)\b",
        rf"\bnicht\b{NEAR}{{0,20}}\b(?:bestellt|erhalten|bekommen|geliefert)\b",
        r"\bnichts bestellt\b",
        rf"\b(?:betrag|rechnung|summe|preis|höhe|abrechnung)\b{NEAR}{{0,25}}\b(?:falsch|fehlerhaft|nicht korrekt"
        r"|nicht richtig|zu hoch|stimmt nicht)\b",
        r"\b(?:irrtum|widerspr\w+|widerspruch|reklam\w+|beschwerde|einspruch|gekündigt|storniert|widerrufen)\b",
        r"\b(?:doppelt|zweimal) (?:berechnet|abgebucht|bezahlt|belastet|in rechnung)\b",
        r"\b(?:zurückgeschickt|zurückgesendet|zurückgegeben|retourniert|betrug|abzocke|unberechtigt"
        r"|nicht einverstanden)\b",
        rf"\b(?:nie|nicht)\b{NEAR}{{0,10}}\b(?:genehmigt|autorisiert|erlaubt|zugestimmt)\b|\bgutschrift\b",
        r"\bschulde (?:ihnen )?nichts\b",
        r"\bkenne ich nicht\b|\bkenne (?:diese|die|ihre) \w+ nicht\b|\bbetrifft mich nicht\b",
        r"\bentspricht nicht\b|\bnicht (?:so |wie )?vereinbart\b|\bnicht das,? was (?:wir|ich) vereinbart\b",
    ),
    *t.cues(I.DISPUTE, 0.75, r"\b(?:fehler|versehen|defekt|kaputt|mangelhaft)\b"),
    *t.cues(
        I.PAID,
        0.9,
        rf"\b(?:habe|hab|haben|hat|habs|hab's)\b{NEAR}{{0,40}}?\b{PARTICIPLE}\b",
        rf"\b(?:ist|wurde|sind|wurden|war)\b{NEAR}{{0,45}}?\b(?:{PARTICIPLE}|eingezogen|abgebucht|rausgegangen)\b",
        rf"\b(?:bereits|schon|längst)\s+{PARTICIPLE}\b",
        rf"^{PARTICIPLE}\b",
        rf"\b(?:zahlung|überweisung|lastschrift|betrag|geld)\b{NEAR}{{0,20}}?\b(?:erfolgt|raus|unterwegs|getätigt"
        r"|veranlasst|ausgeführt|eingegangen|angewiesen)\b",
    ),
    *t.cues(
        I.PROMISE_TO_PAY,
        0.9,
        rf"\b(?:ich|wir)\s+(?:werde|werden)\b{NEAR}{{0,40}}?\b(?:(?:be)?zahlen|überweisen|begleichen|erledigen)\b",
        r"\b(?:zahlung|überweisung|betrag|geld) (?:folgt|kommt)\b",
    ),
    *t.cues(I.PROMISE_TO_PAY, 0.8, r"\b(?:zahle|zahlen|bezahle|bezahlen|überweise|überweisen|begleiche)\b"),
    *t.cues(I.PROMISE_TO_PAY, 0.75, r"\bkümmere mich\b"),
    *t.cues(I.PROMISE_TO_PAY, 0.6, r"\b(?:versprochen|verspreche|ganz sicher|mache ich)\b"),
    *t.cues(
        I.CALL_REQUEST,
        0.85,
        rf"\bruf(?:en sie|t)? (?:mich|uns)\b{NEAR}{{0,30}}\ban\b",
        rf"\b(?:mich|uns)\b{NEAR}{{0,30}}\banrufen\b",
        r"\b(?:zurückrufen|rückruf)\b",
        r"\b(?:mit jemandem|mit einem mitarbeiter|mit ihnen|telefonisch) (?:\w+ )?sprechen\b",
        rf"\bich rufe sie\b{NEAR}{{0,20}}\ban\b",
    ),
    *t.cues(I.CALL_REQUEST, 0.7, r"\b(?:anrufen|telefon\w*)\b"),
    *t.cues(
        I.HELP,
        0.8,
        r"\bwas ist (?:das|los|damit)\b",
        r"\bworum (?:geht es|geht's|gehts|handelt es sich)\b",
        r"\b(?:kopie|duplikat) (?:der|meiner|dieser) rechnung\b",
        r"\bwer (?:sind sie|ist da|ist das|schreibt)\b",
        r"\bvon wem\b|\bwer (?:schickt|sendet|kontaktiert)\b|\bwelche firma\b",
        r"\bwie hoch ist\b|\boffene(?:n|r)? (?:betrag|summe|rechnung)\b",
        r"\bwie ?viel (?:schulde|muss|soll)\b",
        rf"\bverstehe\b{NEAR}{{0,20}}\bnicht\b",
        r"\b(?:welche rechnung|mehr infos?|mehr informationen)\b",
    ),
    *t.cues(I.HELP, 0.65, r"\bhilfe\b", r"\binformationen?\b"),
    *t.cues(
        I.OPT_IN,
        0.85,
        r"\bwieder (?:\w+ ){0,2}(?:erhalten|bekommen|empfangen|schicken|senden|zusenden|anmelden|aktivieren)\b",
        r"\b(?:erinnerungen|nachrichten|sms) wieder\b",
    ),
    *t.cues(
        I.OTHER,
        0.8,
        r"^(?:(?:ok|okay|danke|vielen dank|danke schön|alles klar|verstanden|gut|super|erhalten|in ordnung|passt|prima"
        r"|notiert|gruß|grüße)[\s.,!]*)+$",
    ),
)

LEXICON = Lexicon(
    language="de",
    markers=t.words(
        "ich habe hab haben ist die der das den dem nicht noch schon bereits bitte danke und mir mich sie "
        "ihnen zahle bezahlt überwiesen am zum bis woche nächste nächster morgen heute was wer wie kein "
        "keine mehr ein eine mit für auf hallo gruß rechnung guten tag wir werde ende"
    ),
    specific=SPECIFIC,
    cues=CUES,
    day_first=True,
    weekdays=WEEKDAYS,
    months=MONTHS,
    month_numbers=MONTH_NUMBERS,
    past=t.patterns(
        r"\b(?:letzte|letzten|letzter|vergangene|vergangenen|vorige|vorigen) "
        rf"(?:woche|monat|{alternation(WEEKDAYS)})\b",
        r"\b(?:gestern|vorgestern)(?: abend| früh| morgen)?\b",
        r"\bvor (?:\w+ )?(?:tagen|wochen|monaten|einer woche|einem monat)\b",
        r"\b(?:guten|jeden) morgen\b",
    ),
    periods=(
        t.phrase(r"\bübermorgen\b", lambda d: rules.after(d, 2, rules.Unit.DAY)),
        t.phrase(r"\bheute(?: noch| abend| nachmittag| morgen| früh)?\b", lambda d: d),
        t.phrase(r"\bmorgen\b", lambda d: rules.after(d, 1, rules.Unit.DAY)),
        t.phrase(
            rf"\b(?:(?:bis )?(?:zum )?ende (?:der )?)?{NEXT} woche\b|\bin der {NEXT} woche\b", rules.next_week_friday
        ),
        t.phrase(r"\b(?:diese|dieser|diesen) woche\b|\bende (?:der|dieser) woche\b", rules.this_friday),
        t.phrase(r"\b(?:am |übers |dieses |zum )?wochenende\b", rules.this_sunday),
        t.phrase(rf"\banfang (?:des )?{NEXT} monats?\b", rules.early_next_month),
        t.phrase(
            rf"\b(?:(?:bis )?(?:zum )?ende (?:des )?)?{NEXT} monats?\b|\bim {NEXT} monat\b", rules.end_of_next_month
        ),
        t.phrase(r"\b(?:monatsende|ende (?:des|dieses) monats|ende monat)\b", rules.end_of_month),
        t.phrase(r"\b(?:monatsanfang|anfang (?:des )?monats)\b", lambda d: rules.next_day_of_month(d, rules.EARLY_DAY)),
        t.phrase(r"\b(?:mitte (?:des )?monats|mitte monat|monatsmitte)\b", rules.mid_month),
        t.month_phrase(rf"\bende {MONTH}\b", MONTH_NUMBERS, None),
        t.month_phrase(rf"\bmitte {MONTH}\b", MONTH_NUMBERS, rules.MIDDLE_DAY),
        t.month_phrase(rf"\banfang {MONTH}\b", MONTH_NUMBERS, rules.EARLY_DAY),
        t.offset_phrase(
            rf"\b(?:in|innerhalb von|binnen)\s+(?P<count>{alternation(NUMBERS)}|\d{{1,2}})?\s*"
            rf"(?P<unit>{alternation(UNITS)})\b",
            NUMBERS,
            UNITS,
        ),
    ),
    day_of_month=t.patterns(r"\b(?:am|zum|den|bis zum|bis)\s+(?P<day>[0-3]?\d)\.(?!\d)"),
)
