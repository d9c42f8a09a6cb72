"""French: how customers say they paid, dispute, promise, want a call, opt out or in, need help."""

from __future__ import annotations

from reminder_pipeline.core.replies import calendar_rules as rules
from reminder_pipeline.core.replies.intents import ReplyIntent as I
from reminder_pipeline.core.replies.lexicon import Lexicon, Tables, alternation

t = Tables()

WEEKDAYS, _ = t.calendar_words(
    (
        ("lundi",),
        ("mardi",),
        ("mercredi",),
        ("jeudi",),
        ("vendredi",),
        ("samedi",),
        ("dimanche",),
    )
)
MONTHS, MONTH_NUMBERS = t.calendar_words(
    (
        ("janvier", "janv"),
        ("février", "fevrier", "fevr"),
        ("mars",),
        ("avril",),
        ("mai",),
        ("juin",),
        ("juillet",),
        ("août", "aout"),
        ("septembre",),
        ("octobre",),
        ("novembre",),
        ("décembre", "decembre"),
    )
)
MONTH = f"(?P<month>{alternation(MONTHS)})"
NUMBERS = {"un": 1, "une": 1, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "six": 6, "sept": 7, "dix": 10}
NUMBERS |= {"vingt": 20, "trente": 30, "quelques": 3, "deux ou trois": 3}
UNITS = {"jour": rules.Unit.DAY, "jours": rules.Unit.DAY, "semaine": rules.Unit.WEEK, "semaines": rules.Unit.WEEK}
UNITS |= {"mois": rules.Unit.MONTH}
IN = r"(?:dans|d'ici|d ici|sous|en)"
I_ = r"(?:je |j'|j|on |nous )"
PAY_FUTURE = (
    r"(?:paierai|payerai|réglerai|règlerai|virerai|verserai|rembourserai|ferai (?:le|un) (?:virement|paiement))"
)
PAY_NOW = r"(?:paie|paye|règle|regle|vire|verse|fais (?:le|un) (?:virement|paiement))"

SPECIFIC = (
    *t.cues(
        I.OTHER,
        0.85,
        r"\b(?:mauvais|faux) numéro\b",
        r"\b(?:ce n'est|c'est|n'est) pas (?:mon|le bon) numéro\b",
        r"\berreur de (?:numéro|personne|destinataire)\b",
    ),
    *t.cues(
        I.OTHER,
        0.55,
        r"\b(?:je n'ai|j'ai|jai|nous n'avons|on n'a|n'ai|ai)\s*(?:pas|toujours pas)\s+(?:encore\s+)?"
        r"(?:payé|réglé|viré|effectué le (?:paiement|virement)|fait le virement)\b",
        r"\bpas (?:encore )?(?:payée?|réglée?)\b",
    ),
    *t.cues(
        I.OTHER,
        0.7,
        r"\b(?:je ne peux|je peux|on ne peut|nous ne pouvons) pas (?:payer|régler)\b",
        r"\b(?:chômage|pas d'argent|en difficulté\w*|malade|à l'hôpital)\b",
    ),
    *t.cues(I.DISPUTE, 0.85, r"\b(?:je ne (?:vais|compte) pas|je refuse de) (?:payer|régler)\b", r"\bne paierai pas\b"),
    *t.cues(I.DISPUTE, 0.9, r"\b(?:déjà )?(?:payé|réglé) (?:deux fois|en double)\b"),
    *t.cues(
        I.HELP,
        0.85,
        r"\bcomment (?:je (?:peux|dois) |puis-je |on peut |peut-on |faire pour |est-ce que je peux )?"
        r"(?:payer|régler|paye)\b",
    ),
    *t.cues(I.PROMISE_TO_PAY, 0.8, r"\bquand (?:je serai payée?|j'aurai (?:l'argent|ma paie|mon salaire))\b"),
)

CUES = (
    *t.cues(
        I.OPT_OUT,
        0.95,
        r"\bne (?:plus|pas) (?:m'|me |nous )?(?:envoyer|écrire|contacter|appeler|relancer|déranger|harceler)\b",
        r"\bne (?:m'|me |nous )?(?:envoyez|écrivez|contactez|appelez|relancez) plus\b",
        r"\bcess(?:ez|er) (?:de (?:m'|me |nous )?(?:envoyer|écrire|contacter|appeler|harceler|relancer)|les envois)\b",
        r"\barrêt(?:ez|er|e) (?:de (?:m'|me |nous )?(?:envoyer|écrire|contacter|appeler|harceler|relancer|déranger)"
        r"|(?:les|vos|ces) (?:messages|sms|mails|relances|envois))\b",
        r"\bje ne veux plus (?:recevoir|être contacté|de)\b",
        r"\bplus (?:de|aucun) (?:sms|messages?|mails?|relances?)\b",
        r"\b(?:désabonn\w*|désinscri\w*|désinscription)\b",
        r"\b(?:retirez|supprimez|enlevez|effacez)[- ](?:moi|mon numéro|mes coordonnées)\b",
        r"\blaissez[- ]moi tranquille\b",
        r"\bstop sms\b",
    ),
    *t.cues(I.OPT_OUT, 0.85, r"^(?:arrêt|arrêtez|arrêter)[\s.!]*$"),
    *t.cues(
        I.DISPUTE,
        0.9,
        r"\b(?:n'est|est) pas (?:à moi|la mienne|le mien|ma facture|pour moi)\b",
        r"\bpas à moi\b",
        r"\bjamais (?:reçu|commandé|demandé|signé|souscrit|utilisé|acheté)\b",
        r"\b(?:je n'ai|j'ai|jai|n'ai) (?:pas|rien|jamais) (?:reçu|commandé|demandé|signé|souscrit)\b",
        r"\brien commandé\b",
        r"\bje (?:ne )?dois rien\b",
        r"\b(?:montant|facture|prix|somme|total)\b[^.?!]{0,25}\b(?:faux|fausse|erroné|erronée|incorrecte?|pas bon"
        r"|pas correcte?)\b",
        r"\b(?:c'est|il y a) une erreur\b",
        r"\b(?:conteste\w*|contestation|litige|réclamation|arnaque|escroquerie|fraude|résilié\w*|remboursé\w*)\b",
        r"\b(?:facturé\w*|prélevé\w*|débité\w*) deux fois\b",
        r"\bdouble (?:facturation|prélèvement)\b",
        r"\b(?:retourné|renvoyé) (?:le|la|les|mon|ma|mes)\b",
        r"\b(?:jamais|pas|non) autorisée?s?\b",
        r"\bun avoir\b",
        r"\bpas d'accord\b",
        r"\bje ne (?:connais|reconnais) pas\b",
        r"\bne me concerne pas\b",
        r"\bne correspond(?:ent)? pas\b",
        r"\bpas ce qui (?:était|a été|avait été) (?:convenu|prévu|commandé)\b",
    ),
    *t.cues(I.DISPUTE, 0.7, r"\berreur\b"),
    *t.cues(I.DISPUTE, 0.75, r"\bretournée?s?\b"),
    *t.cues(
        I.PAID,
        0.9,
        r"\b(?:j'ai|jai|j ai|nous avons|on a|ai)\s+(?:déjà\s+|bien\s+)?(?:payé|payée|réglé|réglée|viré|versé"
        r"|effectué (?:le|un) (?:paiement|virement|règlement)|fait (?:le|un) virement"
        r"|envoyé (?:le|un) (?:chèque|paiement|virement))\b",
        r"\bje vous ai (?:déjà )?(?:envoyé|viré|versé|payé|réglé)\b",
        r"\b(?:a|ont|avons|avez) (?:bien |déjà )?(?:effectué|fait|envoyé|réglé|payé|viré|versé) "
        r"(?:le|un|la|les|ce|cette) (?:virement|paiement|règlement|facture|chèque|somme|montant)\b",
        r"\b(?:c'est|est|a été|été|facture)\s+(?:déjà\s+|bien\s+)?(?:payée?|réglée?|acquittée?)\b",
        r"\bdéjà (?:payée?|réglée?)\b",
        r"^(?:payée?|réglée?|c'est fait)\b",
        r"\b(?:solde|montant|facture|somme)\s+(?:a |été |est |déjà |bien )+(?:réglée?|payée?|soldée?)\b",
        r"\b(?:virement|paiement|règlement|prélèvement|chèque)\s+(?:a |été |est |déjà |bien )*"
        r"(?:effectué|fait|envoyé|passé|parti|réalisé)\b",
    ),
    *t.cues(
        I.PROMISE_TO_PAY,
        0.9,
        rf"\b{I_}(?:vous |te |le |la |les |l')?{PAY_FUTURE}\b",
        r"\b(?:je|on|nous) (?:vais|va|allons) (?:vous |te |le |la |l')?"
        r"(?:payer|régler|faire (?:le|un) (?:virement|paiement)|virer|verser)\b",
        r"\bje (?:peux|pourrai|pourrais) (?:vous )?(?:payer|régler)\b",
    ),
    *t.cues(I.PROMISE_TO_PAY, 0.85, rf"\b{I_}\s*(?:vous |te |le |la |l')?{PAY_NOW}\b"),
    *t.cues(I.PROMISE_TO_PAY, 0.75, r"\bje m'en occupe\b"),
    *t.cues(I.PROMISE_TO_PAY, 0.6, r"\b(?:promis|je (?:vous )?le promets|sans faute|je le fais)\b"),
    *t.cues(
        I.CALL_REQUEST,
        0.85,
        r"\b(?:rappel(?:ez|er|le)|appel(?:ez|er|le))[- ]?(?:moi|nous)\b",
        r"\b(?:m'|me |nous )(?:appeler|rappeler|téléphoner)\b",
        r"\bparler (?:à|avec) (?:quelqu'un|un conseiller|une personne|un humain|vous|un agent|un responsable)\b",
        r"\bje vous (?:appelle|rappelle|téléphone)\b",
        r"\b(?:me |m')(?:rappelle|appelle|téléphone|rappeliez|appeliez)\b",
        r"\bnuméro (?:que je (?:peux|puis) |à |pour )(?:appeler|joindre)\b",
    ),
    *t.cues(I.CALL_REQUEST, 0.7, r"\b(?:par téléphone|appel|appeler|téléphoner)\b"),
    *t.cues(
        I.HELP,
        0.8,
        r"\bc'est quoi\b",
        r"\bqu'est[- ]ce que c'est\b",
        r"\bqui (?:êtes[- ]vous|est[- ]ce|c'est|m'écrit)\b",
        r"\bqui (?:m'|me )?(?:envoie|écrit|contacte|relance)\b",
        r"\b(?:de la part de qui|quelle (?:société|entreprise))\b",
        r"\bc'est qui\b",
        r"\bcombien (?:je (?:vous )?dois|dois[- ]je)\b",
        r"\bje (?:ne )?comprends pas\b",
        r"\b(?:quelle facture|de quoi s'agit)\b",
        r"\bà quel sujet\b|\bà propos de quoi\b",
        r"\b(?:copie|duplicata|détail) de (?:la|ma|cette) facture\b",
    ),
    *t.cues(I.HELP, 0.65, r"\baide\b", r"\binformations?\b"),
    *t.cues(
        I.OPT_IN,
        0.85,
        r"\b(?:de nouveau|à nouveau)\s+(?:recevoir|m'envoyer)\b",
        r"\brecevoir (?:à|de) nouveau\b",
        r"\breprendre (?:les|vos) (?:envois|messages|sms|rappels)\b",
        r"\b(?:réabonn\w*|réinscri\w*)\b",
    ),
    *t.cues(
        I.OTHER,
        0.8,
        r"^(?:(?:ok|okay|merci|merci beaucoup|d'accord|bien reçu|c'est noté|noté|entendu|parfait|super|ça marche"
        r"|compris|reçu|bonne journée|cordialement)[\s.,!]*)+$",
    ),
)

LEXICON = Lexicon(
    language="fr",
    markers=t.words(
        "je j'ai jai le la les de du des est c'est pas ne n'ai vous moi merci bonjour ce cette suis ai paye "
        "payer paierai regle demain semaine mois prochain fin et une pour avec mon ma mes deja svp oui qui "
        "quoi bonsoir salut facture bien"
    ),
    specific=SPECIFIC,
    cues=CUES,
    day_first=True,
    weekdays=WEEKDAYS,
    months=MONTHS,
    month_numbers=MONTH_NUMBERS,
    past=t.patterns(
        r"\b(?:la semaine|le mois|l'an|l'année) (?:dernière?|passée?)\b",
        rf"\b(?:{alternation(WEEKDAYS)}) (?:dernier|passé)\b",
        r"\b(?:hier|avant[- ]hier)(?: soir| matin)?\b",
        r"\bil y a (?:\w+ )?(?:jours?|semaines?|mois|temps|longtemps)\b",
        r"\bdepuis (?:longtemps|\w+ (?:jours?|semaines?|mois))\b",
    ),
    periods=(
        t.phrase(r"\baprès[- ]demain\b", lambda d: rules.after(d, 2, rules.Unit.DAY)),
        t.phrase(r"\bdemain\b", lambda d: rules.after(d, 1, rules.Unit.DAY)),
        t.phrase(
            r"\b(?:aujourd'hui|aujourdhui|ce (?:soir|matin|midi)|cet après[- ]midi|dans la journée)\b", lambda d: d
        ),
        t.phrase(r"\b(?:(?:à la |en )?fin de )?(?:la )?semaine (?:prochaine|d'après)\b", rules.next_week_friday),
        t.phrase(r"\b(?:cette semaine|(?:à la |en )?fin de (?:la |cette )?semaine)\b", rules.this_friday),
        t.phrase(r"\b(?:ce |le |pendant le )?week[- ]?end\b", rules.this_sunday),
        t.phrase(r"\b(?:au )?début (?:du|de) mois prochain\b", rules.early_next_month),
        t.phrase(r"\b(?:(?:à la )?fin du )?mois prochain\b", rules.end_of_next_month),
        t.phrase(r"\b(?:à la |en )?fin (?:du|de) mois\b", rules.end_of_month),
        t.phrase(r"\b(?:au )?début (?:du|de) mois\b", lambda d: rules.next_day_of_month(d, rules.EARLY_DAY)),
        t.phrase(r"\b(?:à la )?mi[- ]mois\b|\b(?:au )?milieu du mois\b", rules.mid_month),
        t.month_phrase(rf"\b(?:à la )?fin (?:de |d')?{MONTH}\b", MONTH_NUMBERS, None),
        t.month_phrase(rf"\b(?:à la )?mi[- ]{MONTH}\b", MONTH_NUMBERS, rules.MIDDLE_DAY),
        t.month_phrase(rf"\b(?:au )?début (?:de |d')?{MONTH}\b", MONTH_NUMBERS, rules.EARLY_DAY),
        t.idiom_phrase(rf"\b{IN} (?:huit|8) jours\b", 7),
        t.idiom_phrase(rf"\b{IN} (?:quinze|15) jours\b", 14),
        t.offset_phrase(
            rf"\b{IN}\s+(?P<count>{alternation(NUMBERS)}|\d{{1,2}})?\s*(?P<unit>{alternation(UNITS)})\b",
            NUMBERS,
            UNITS,
        ),
    ),
    day_of_month=t.patterns(
        r"\b(?:le|au|avant le|jusqu'au|pour le)\s+(?P<day>[0-3]?\d)(?:er)?\b(?!\s*(?:%|€|\$|euros?|jours|/|\.\d|h\b|:))"
    ),
)
