"""English: how customers say they paid, dispute, promise, want a call, opt out or in, need help."""

from __future__ import annotations

from reminder_pipeline.core.replies import calendar_rules as rules
from reminder_pipeline.core.replies.intents import ReplyIntent as I
from reminder_pipeline.core.replies.lexicon import Lexicon, Tables, alternation

t = Tables()

WEEKDAYS, _ = t.calendar_words(
    (
        ("monday", "mon", "monay", "mondy"),
        ("tuesday", "tue", "tues", "tuseday", "tusday", "teusday"),
        ("wednesday", "wed", "weds", "wensday", "wendsday", "wednsday", "wedensday", "wenesday"),
        ("thursday", "thu", "thur", "thurs", "thrusday", "thursay", "thurday"),
        ("friday", "fri", "fryday", "firday", "frida"),
        ("saturday", "saturaday", "satuday", "saterday"),
        ("sunday", "sundy"),
    )
)
MONTHS, MONTH_NUMBERS = t.calendar_words(
    (
        ("january", "jan"),
        ("february", "feb", "febuary"),
        ("march", "mar"),
        ("april", "apr"),
        ("may",),
        ("june", "jun"),
        ("july", "jul"),
        ("august", "aug"),
        ("september", "sep", "sept"),
        ("october", "oct"),
        ("november", "nov"),
        ("december", "dec"),
    )
)
MONTH = f"(?P<month>{alternation(MONTHS)})"
NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7}
NUMBERS |= {"eight": 8, "nine": 9, "ten": 10, "fourteen": 14, "fifteen": 15, "twenty": 20, "thirty": 30}
NUMBERS |= {"a couple of": 2, "a couple": 2, "couple of": 2, "couple": 2, "a few": 3, "few": 3}
UNITS = {"day": rules.Unit.DAY, "days": rules.Unit.DAY, "week": rules.Unit.WEEK, "weeks": rules.Unit.WEEK}
UNITS |= {"month": rules.Unit.MONTH, "months": rules.Unit.MONTH}

I_WILL = (
    r"(?:i\s?'?ll|ill|i will|i should|should|i may|i might|i'?m going to|im going to|i am going to|gonna|going to"
    r"|we'?ll|we will|i can|we can|i could|i shall|will)"
)
PAY_VERB = (
    r"(?:pay|send|transfer|make|settle|wire|mail|clear|deposit|take care|sort|get (?:it|this|the (?:payment|money))"
    r"|do it|put|drop|have it paid|have the)"
)

SPECIFIC = (
    *t.cues(I.OTHER, 0.85, r"\bwrong (?:number|person)\b", r"\bnot (?:the right|the correct) (?:number|person)\b"),
    *t.cues(
        I.DISPUTE,
        0.85,
        r"\b(?:not|won'?t|wont|will not|refuse to) pay(?:ing)? (?:until|till|for|anything|this|that|because)\b",
        r"\b(?:i'?m|im|i am|we'?re|we are) not paying\b",
    ),
    *t.cues(
        I.OTHER,
        0.55,
        r"\b(?:have not|haven'?t|havent|did not|didn'?t|didnt|has not|hasn'?t|not)\s+(?:yet\s+|actually\s+)?"
        r"(?:been\s+)?(?:paid|payed|pay|sent (?:the )?(?:payment|money))\b(?:\s+(?:it|this|that|yet))*",
        r"\bunpaid\b",
    ),
    *t.cues(
        I.OTHER,
        0.7,
        r"\b(?:can'?t|cannot|cant|unable to|not able to|won'?t be able to) (?:afford|pay)\b(?: (?:it|this|that))?",
        r"\blost my job\b",
        r"\b(?:no money|money is tight|out of work|unemployed|hardship|in (?:the )?hospital)\b",
    ),
    *t.cues(I.PROMISE_TO_PAY, 0.85, rf"\b{I_WILL} (?:have (?:it|this) |be )?paid(?: off)?\b"),
    *t.cues(I.PROMISE_TO_PAY, 0.4, r"\b(?:get|gets|getting|when i'?m|when i am) paid\b"),
    *t.cues(I.HELP, 0.85, r"\bhow (?:do|can|should|could) (?:i|we) pay\b", r"\bwhere (?:do|can) (?:i|we) pay\b"),
    *t.cues(I.OTHER, 0.0, r"\bstop (?:by|in|over)\b"),
    *t.cues(I.DISPUTE, 0.9, r"\b(?:already )?paid (?:this |it |that |you )?(?:twice|two times|double)\b"),
    *t.cues(I.DISPUTE, 0.75, r"\breturned\b"),
    *t.cues(
        I.OPT_OUT,
        0.95,
        r"\b(?:don'?t|dont|do not|never)\s+(?:text|message|msg|contact|email|call|write to|bother)\s+(?:me|us)"
        r"(?: again| anymore| any more)?\b",
    ),
)

CUES = (
    *t.cues(
        I.OPT_OUT,
        0.95,
        r"\b(?:stop|quit|cease|enough)\s+(?:with the\s+)?(?:texting|messaging|msging|msg|sending|emailing|contacting"
        r"|calling|bothering|harass\w*|writing|texts|messages)\b",
        r"\bunsubscribe\b",
        r"\bopt(?:\s|-)?out\b",
        r"\b(?:remove|take|delete|erase)\s+(?:me|my (?:number|name|email|details|data))\s+(?:from|off|out of)\b",
        r"\b(?:delete|erase) my (?:number|details|data)\b",
        r"\bno more (?:texts|messages|msgs|emails|reminders|sms|calls)\b",
        r"\bleave me alone\b",
        r"\b(?:don'?t|do not|no longer) want (?:to (?:receive|get)|any more|anymore)\b",
    ),
    *t.cues(
        I.OPT_OUT, 0.85, r"^(?:please |pls )?stop\b", r"\bstop (?:it|this|these|the messages|the texts) ?(?:please)?$"
    ),
    *t.cues(
        I.DISPUTE,
        0.9,
        r"\b(?:isn'?t|is not|not|aren'?t)\s+(?:my|mine|ours|our)\b",
        r"\bnever (?:ordered|received|got|signed|used|bought|agreed|asked|heard of|had|requested)\b",
        r"\b(?:didn'?t|did not|haven'?t|have not)\s+(?:order|receive|received|get|sign|buy|agree|use|request)\b",
        r"\b(?:wrong|incorrect|inaccurate)\s+(?:amount|invoice|bill|charge|price|total)\b",
        r"\b(?:amount|invoice|bill|charge|price|total)\b[^.?!]{0,30}"
        r"\b(?:wrong|incorrect|not correct|a mistake|an error)\b",
        r"\b(?:this|it|that)(?: is|'s| s) (?:wrong|incorrect|a mistake|an error|a scam|fraud)\b",
        r"\b(?:in error|dispute|disputing|disputed|contest|overcharged|double charged|scam|fraud\w*)\b",
        r"\b(?:charged|billed) (?:me |us )?(?:twice|two times|double)\b",
        r"\b(?:don'?t|do not|shouldn'?t|should not) owe\b",
        r"\b(?:cancel+ed|closed|terminated)\s+(?:my|the|our)\s+(?:subscription|account|contract|service|order|membership)\b",
        r"\b(?:account|contract|subscription|service) (?:was|is|has been) (?:closed|cancel+ed|terminated)\b",
        r"\breturned (?:the|it|my|this|everything)\b",
        r"\b(?:i|we) (?:cancel+ed|closed|terminated)\b",
        r"\b(?:we|i) (?:sent|gave|took) (?:it|them|everything) back\b",
        r"\b(?:want|need|request|demand|expect|asking for)\w* (?:a |my |the )?refund\b|\brefund (?:me|us|it)\b",
        r"\b(?:never|didn'?t|did not|not) authori[sz]ed?\b|\bunauthori[sz]ed\b",
        r"\b(?:credit|cancel) (?:it|this|the invoice)\b|\bcredit note\b",
        r"\bwhy am i (?:still )?being (?:charged|billed)\b",
        r"\bnot what (?:we|i) (?:agreed|were quoted|was quoted|ordered)\b",
        r"\b(?:doesn'?t|does not|don'?t|do not) match\b",
        r"\b(?:quote|quoted price|estimate) was (?:lower|different|less)\b",
        r"\bmore than (?:we|i) (?:were |was )?(?:quoted|agreed)\b",
        r"\b(?:work|job|repair)\b[^.?!]{0,20}\b(?:never|not) (?:finished|done|completed)\b",
    ),
    *t.cues(
        I.PAID,
        0.9,
        r"\b(?:already|allready|alredy|just)\s+(?:been\s+)?(?:paid|payed|settled|sent|transferred)\b",
        r"\b(?:i|we|i'?ve|ive|we'?ve|have|has|had)\s+(?:already\s+|just\s+|allready\s+)?(?:paid|payed|settled)\b",
        r"\b(?:payment|transfer|money|check|cheque)\s+(?:was|has been|is|went|already)\s*(?:already\s+)?"
        r"(?:sent|made|paid|done|through|processed|completed|transferred|in the mail)\b",
        r"\b(?:check|cheque) (?:is )?in the mail\b",
        r"\b(?:i|we)\s+(?:sent|made|transferred|wired|mailed)\s+(?:you\s+)?(?:the |a |my |our )?"
        r"(?:payment|money|funds|check|cheque|transfer|amount)\b",
        r"\b(?:it'?s|its|it has|it was|this was|this has|that was|was|has been|have been)\s+(?:been\s+)?(?:already\s+)?"
        r"(?:paid|settled)\b",
    ),
    *t.cues(
        I.PAID,
        0.8,
        r"^paid\b",
        r"\b(?:i|we|i'?ve|ive|we'?ve|just|already)\s+(?:already\s+|just\s+)?sent (?:it|this|that|you (?:the|it|a))\b",
        r"\b(?:transfer|payment|bank transfer|wire|check|cheque)\s+(?:done|sent|made|complete|completed|processed)\b",
        r"\b(?:payment|money|check|cheque|transfer|it)(?: is|'s| s) on (?:its|the) way\b",
        r"\b(?:payment|transfer|money|funds|it) (?:went|has gone|was sent) (?:out|through|over)\b",
        r"\b(?:balance|invoice|bill|account|debt) (?:was|has been|is) (?:cleared|settled|paid off)\b",
        r"\b(?:processed|made|sent|issued|completed|initiated|submitted|mailed|wired)\b[^.?!]{0,20}"
        r"\b(?:payment|transfer|cheque|check|funds)\b",
        r"\b(?:paid|payed) (?:it|this|that|in full|online|yesterday|last|off|via|by card|with|through|\w+ ago)\b",
        r"\byou should (?:have|get) it\b",
    ),
    *t.cues(
        I.PROMISE_TO_PAY,
        0.9,
        rf"\b{I_WILL} (?:try to |be able to |definitely |probably )?{PAY_VERB}\b",
        r"\b(?:payment|transfer) (?:will be|is going to be|scheduled|is scheduled|planned|follows)\b",
        r"\b(?:give|allow) me (?:until|till|til|a few|some|a week|a couple|more time)\b",
    ),
    *t.cues(
        I.PROMISE_TO_PAY,
        0.75,
        r"\bpay (?:it |you |this )?(?:on|by|next|tomorrow|this|at the end|in|before)\b",
        rf"\b{I_WILL} (?:do (?:it|so) )?(?:on|by|before|next|this|tomorrow|tmrw|in)\b",
    ),
    *t.cues(I.PROMISE_TO_PAY, 0.65, r"\bpromise\b"),
    *t.cues(
        I.CALL_REQUEST,
        0.85,
        r"\b(?:give|gimme) (?:me|us) a (?:call|ring|buzz)\b",
        r"\b(?:call|ring|phone) (?:me|us)\b",
        r"\bcall (?:me )?back\b",
        r"\b(?:can|could|would) (?:you|someone|somebody|u|anyone) (?:please )?(?:call|ring|phone)\b",
        r"\b(?:talk|speak) (?:to|with) (?:someone|somebody|a real|a human|a person|an agent|a manager|you|a rep)\b",
        r"\bcan we (?:talk|speak)\b",
    ),
    *t.cues(I.CALL_REQUEST, 0.6, r"\b(?:call|phone)\b"),
    *t.cues(
        I.HELP,
        0.8,
        r"\bwho (?:is|'s|s)? ?(?:this|dis|that|it)\b",
        r"\bwho are (?:you|u)\b",
        r"\bwho(?:'s| is)? (?:sending|texting|writing|messaging|contacting|emailing)\b",
        r"\bwhat (?:company|business) is this\b",
        r"\b(?:what'?s|what is) (?:the|my) (?:balance|amount|total)\b",
        r"\bwhat(?: is|'s|s)? (?:this|that|it)\b",
        r"\bwhat do (?:i|we) owe\b",
        r"\bhow much (?:do i owe|is it|is due|do i have to pay|is left)\b",
        r"\b(?:more|some|need) info\w*\b",
        r"\b(?:don'?t|do not) understand\b",
        r"\blink (?:doesn'?t|does not|isn'?t|is not|won'?t|doesnt) work\b",
        r"\b(?:which|what) (?:invoice|bill)\b",
        r"\b(?:copy|pdf|details) of (?:the|my|this) (?:invoice|bill|statement)\b",
        r"\bwhat(?:'s| is) (?:this|it) (?:regarding|about|for)\b",
    ),
    *t.cues(I.HELP, 0.65, r"\bhelp\b"),
    *t.cues(
        I.OPT_IN,
        0.85,
        r"\b(?:text|message|email|contact|remind) me again\b",
        r"\b(?:receive|get|resume|restart)\b[^.?!]{0,15}\b(?:reminders|messages|texts|emails|notifications)\b[^.?!]{0,10}\bagain\b",
        r"\bopt (?:me )?(?:back )?in\b",
        r"\b(?:resubscribe|subscribe me|unstop)\b",
        r"\bstart (?:texting|sending|messaging)\b",
    ),
    *t.cues(
        I.OTHER,
        0.8,
        r"^(?:(?:ok(?:ay)?|k|thanks?|thank you|thx|ty|got it|noted|sounds good|great|cool|fine|understood|roger|"
        r"received|alright|perfect|good)[\s.,!]*)+$",
    ),
)

LEXICON = Lexicon(
    language="en",
    markers=t.words(
        "i i'm im i'll ill you the is it this that will pay paid please pls thanks thank my we have not and "
        "on can what who already next week to for of your with just sorry hi hello hey got sent would could "
        "don't dont didn't haven't yet be been was are me"
    ),
    specific=SPECIFIC,
    cues=CUES,
    day_first=False,
    weekdays=WEEKDAYS,
    months=MONTHS,
    month_numbers=MONTH_NUMBERS,
    past=t.patterns(
        r"\b(?:last|past|previous) (?:week|month|\w+day)\b",
        r"\b(?:\w+ ){1,2}(?:days?|weeks?|months?) ago\b",
        r"\b(?:yesterday|the other day|earlier today)\b",
    ),
    periods=(
        t.phrase(r"\bday after (?:tomorrow|tomorow|tmrw)\b", lambda d: rules.after(d, 2, rules.Unit.DAY)),
        t.phrase(
            r"\b(?:tomorrow|tomorow|tommorow|tommorrow|tomorro|tmrw|tmr|2moro|2morrow)\b",
            lambda d: rules.after(d, 1, rules.Unit.DAY),
        ),
        t.phrase(
            r"\b(?:today|tonight|this (?:afternoon|evening|morning)|later today|end of (?:the )?day)\b", lambda d: d
        ),
        t.phrase(
            r"\b(?:(?:by |until |till |before )?the end of |end of )?(?:next|the following) week\b",
            rules.next_week_friday,
        ),
        t.phrase(r"\b(?:this week|end of (?:the|this) week|later this week)\b", rules.this_friday),
        t.phrase(r"\b(?:this |the |over the |on the )?week ?end\b", rules.this_sunday),
        t.phrase(
            r"\b(?:early|beginning of|start of|first of|the first of) (?:next|the) month\b", rules.early_next_month
        ),
        t.phrase(r"\b(?:end of |by the end of )?next month\b", rules.end_of_next_month),
        t.phrase(r"\b(?:end of (?:the |this )?month|month'?s end|month end|eom)\b", rules.end_of_month),
        t.phrase(r"\b(?:mid|the middle of (?:the |this )?)[- ]?month\b", rules.mid_month),
        t.month_phrase(rf"\b(?:the )?end of {MONTH}\b", MONTH_NUMBERS, None),
        t.month_phrase(rf"\b(?:mid|the middle of)[- ]?{MONTH}\b", MONTH_NUMBERS, rules.MIDDLE_DAY),
        t.month_phrase(rf"\b(?:early|the beginning of|the start of) {MONTH}\b", MONTH_NUMBERS, rules.EARLY_DAY),
        t.offset_phrase(
            rf"\b(?:in|within)\s+(?P<count>{alternation(NUMBERS)}|\d{{1,2}})?\s*(?P<unit>{alternation(UNITS)})\b",
            NUMBERS,
            UNITS,
        ),
    ),
    day_of_month=t.patterns(r"\b(?P<day>[0-3]?\d)(?:st|nd|rd|th)\b"),
)
