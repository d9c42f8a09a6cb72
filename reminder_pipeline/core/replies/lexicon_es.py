"""Spanish: how customers say they paid, dispute, promise, want a call, opt out or in, need help."""

from __future__ import annotations

from reminder_pipeline.core.replies import calendar_rules as rules
from reminder_pipeline.core.replies.intents import ReplyIntent as I
from reminder_pipeline.core.replies.lexicon import Lexicon, Tables, alternation

t = Tables()

WEEKDAYS, _ = t.calendar_words(
    (
        ("lunes",),
        ("martes",),
        ("miércoles", "miercoles", "mier"),
        ("jueves",),
        ("viernes", "vienes", "biernes"),
        ("sábado", "sabado"),
        ("domingo",),
    )
)
MONTHS, MONTH_NUMBERS = t.calendar_words(
    (
        ("enero",),
        ("febrero",),
        ("marzo",),
        ("abril",),
        ("mayo",),
        ("junio",),
        ("julio",),
        ("agosto",),
        ("septiembre", "setiembre"),
        ("octubre",),
        ("noviembre",),
        ("diciembre",),
    )
)
MONTH = f"(?P<month>{alternation(MONTHS)})"
NUMBERS = {"un": 1, "una": 1, "uno": 1, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5, "seis": 6, "siete": 7}
NUMBERS |= {"ocho": 8, "nueve": 9, "diez": 10, "quince": 15, "veinte": 20, "treinta": 30}
NUMBERS |= {"un par de": 2, "par de": 2, "unos": 3, "unas": 3, "unos pocos": 3, "pocos": 3, "algunos": 3}
UNITS = {"dia": rules.Unit.DAY, "dias": rules.Unit.DAY, "semana": rules.Unit.WEEK, "semanas": rules.Unit.WEEK}
UNITS |= {"mes": rules.Unit.MONTH, "meses": rules.Unit.MONTH}
NEXT_WEEK = r"(?:la )?(?:semana que viene|próxima semana|semana próxima|siguiente semana|otra semana)"
NEXT_MONTH = r"(?:el )?(?:mes que viene|próximo mes|mes próximo|siguiente mes)"
PAST_PAID = r"(?:pagué|pagamos|aboné|transferí|deposité|liquidé|cancelé la deuda)"
DID = r"(?:envié|hice|realicé|hicimos|realizamos)"

SPECIFIC = (
    *t.cues(
        I.OTHER,
        0.85,
        r"\bnúmero equivocado\b",
        r"\bse (?:equivoc\w+|confundi\w+) de (?:número|persona)\b",
        r"\bno (?:es|soy) (?:la persona|quien)\b",
    ),
    *t.cues(
        I.OTHER,
        0.55,
        r"\b(?:no|aún no|todavía no|tampoco)\s+(?:lo |la |les |le )?(?:he|hemos|ha)\s+(?:pagado|abonado|transferido)\b"
        r"(?:\s+(?:todavía|aún))?",
        r"\b(?:aún|todavía) no (?:lo |la )?(?:he )?(?:pagado|pagué)\b",
        r"\bno (?:lo |la )?pagué\b",
        r"\bsin pagar\b",
    ),
    *t.cues(
        I.OTHER,
        0.7,
        r"\bno (?:puedo|podemos|podré|voy a poder) pagar\b",
        r"\b(?:sin trabajo|en el paro|desemplead[oa]|no tengo (?:dinero|plata)|enferm[oa])\b",
    ),
    *t.cues(I.DISPUTE, 0.85, r"\bno (?:voy a pagar|pienso pagar|pagaré)\b"),
    *t.cues(I.DISPUTE, 0.9, r"\b(?:ya )?(?:lo |la )?(?:pagué|he pagado|pagamos) (?:dos veces|doble)\b"),
    *t.cues(I.HELP, 0.85, r"\bcómo (?:puedo |se puede |hago para |debo |podemos )?pag\w*\b"),
    *t.cues(I.PROMISE_TO_PAY, 0.8, r"\bcuando (?:cobre|me paguen|tenga (?:el )?dinero)\b"),
)

CUES = (
    *t.cues(
        I.OPT_OUT,
        0.95,
        r"\bno (?:me|nos) (?:escriban|escriba|escribas|manden|mande|mandes|envíen|envíe|contacten|contacte|llamen|llame"
        r"|molesten|moleste)\b",
        r"\bdej(?:en|e|a) de (?:escribir\w*|mandar\w*|enviar\w*|molestar\w*|llamar\w*|contactar\w*)\b",
        r"\bya no (?:me|nos) (?:escriban|manden|envíen|contacten|llamen)\b",
        r"\bbasta de (?:mensajes|sms|llamadas|correos)\b",
        r"\b(?:dar(?:me|nos)?|denme|deme|darnos) de baja\b",
        r"\bno quiero (?:recibir|que me)\b[^.?!]*\b(?:más|mensajes|sms|correos|recordatorios|escriban|manden)\b",
        r"\bno (?:más|quiero más) (?:mensajes|sms|correos)\b",
        r"\bborr(?:en|ar) mi (?:número|correo|email)\b",
        r"\b(?:cancelar (?:la )?suscripción|desuscrib\w+|darme de baja)\b",
    ),
    *t.cues(I.OPT_OUT, 0.85, r"^(?:baja|alto|basta|parar)[\s.!]*$"),
    *t.cues(
        I.DISPUTE,
        0.9,
        r"\bno (?:es|son) (?:mía|mío|mías|míos|nuestra|nuestro|mi factura|de nosotros|para mí)\b",
        r"\bnunca (?:recibí|pedí|contraté|compré|solicité|firmé|usé|he recibido|he pedido|he contratado)\b",
        r"\b(?:no|yo no) (?:recibí|pedí|contraté|compré|solicité|he recibido|he pedido|he contratado|reconozco)\b",
        r"\bno debo\b",
        r"\b(?:importe|monto|cargo|cobro|precio|factura|cantidad|total)\b[^.?!]{0,25}\b"
        r"(?:mal|equivocad[oa]|incorrect[oa]|errone[oa]|no es correct[oa]|indebid[oa])\b",
        r"\b(?:es|está) (?:mal|equivocad[oa]|incorrect[oa])\b",
        r"\b(?:es un error|por error|reclam\w+|fraude|estafa|mal hech[oa]|no estoy de acuerdo|no conozco)\b",
        r"\b(?:cobraron|cobró|cobrado|facturaron|cargaron) (?:\w+ )?(?:dos veces|doble|de más)\b",
        r"\bcobro (?:doble|indebido)\b",
        r"\b(?:cancelé|di de baja|anulé|rescindí|devolví|devolvimos|devuelto|devuelta)\b",
        r"\b(?:nunca|no) (?:autoricé|autorizamos|he autorizado|autoricé)\b|\bno autorizad[oa]\b",
        r"\bnota de crédito\b",
        r"\bno (?:terminaron|acabaron|completaron|hicieron) (?:el|la|los)\b",
        r"\bno (?:corresponde|coincide|cuadra)\b",
        r"\bno es lo (?:acordado|pactado|que (?:acordamos|pedí|contraté))\b",
    ),
    *t.cues(I.DISPUTE, 0.7, r"\berror\b"),
    *t.cues(
        I.PAID,
        0.9,
        r"\bya (?:lo |la |te |le |les |se )?(?:he |hemos |ha )?"
        rf"(?:pagado|abonado|transferido|depositado|liquidado|saldado|enviado|{PAST_PAID}|{DID})\b",
        r"\b(?:está|ya está|quedó|ya quedó|fue|ha sido|esta ya)\s+(?:ya\s+)?"
        r"(?:pagad[oa]|abonad[oa]|saldad[oa]|liquidad[oa])\b",
        r"\b(?:hice|realicé|hicimos|realizamos|envié) (?:el|la) (?:pago|transferencia|depósito|abono)\b",
        r"\b(?:el|mi) pago (?:ya )?(?:se )?(?:realizó|hizo|efectuó|envió|fue realizado|fue hecho|está hecho)\b",
        r"\bpago (?:realizado|hecho|efectuado|enviado)\b",
        r"\b(?:está|quedó|fue) (?:hecho|realizado|efectuado|enviado) el (?:pago|abono|depósito)\b",
        r"\b(?:el pago|la transferencia|el dinero|el depósito|el abono) (?:ya )?"
        r"(?:se hizo|salió|se envió|se mandó|llegó)\b",
        r"\bya está hech[oa]\b",
        r"^pagad[oa]\b",
    ),
    *t.cues(
        I.PAID,
        0.8,
        rf"\b{PAST_PAID}\b",
        r"\b(?:adjunto|envío) (?:el )?comprobante\b",
        # third person past; "pagó", "abonó", "envió", "realizó" fold to "pago", "abono", "envio", "realizo" (present)
        r"\b(?:hizo|transfirió|realizaron|hicieron|pagaron|enviaron|transfirieron|abonaron|depositaron)\b",
    ),
    *t.cues(
        I.PROMISE_TO_PAY,
        0.9,
        r"\b(?:pagaré|pagaremos|abonaré|transferiré|depositaré|liquidaré|cancelaré)\b",
        r"\b(?:haré|realizaré) (?:el|la) (?:pago|transferencia|depósito|abono)\b",
        r"\b(?:voy|vamos) a (?:pagar|abonar|transferir|depositar|hacer (?:el|la) (?:pago|transferencia)"
        r"|realizar el pago|liquidar|cancelar la deuda)\b",
        r"\b(?:te|le|les|se lo|se la|lo|la) (?:pago|abono|transfiero|deposito|hago (?:el|la) (?:pago|transferencia))\b",
        r"\b(?:puedo|podré|podría) (?:pagar|abonar|transferir|depositar)\b",
        r"\brealizo el pago\b",
    ),
    *t.cues(I.PROMISE_TO_PAY, 0.8, r"\bpago (?:el|la|mañana|hoy|pasado|en|dentro|a fin|a finales|esta|este|antes)\b"),
    *t.cues(I.PROMISE_TO_PAY, 0.6, r"\b(?:sin falta|se lo prometo|lo prometo|a la vuelta)\b"),
    *t.cues(
        I.CALL_REQUEST,
        0.85,
        r"\bllám(?:e|en|a|ar)(?:me|nos)\b",
        r"\bllamarme\b",
        r"\bme (?:llame|llamen|llamara|llamaran|llamasen|telefonee|telefoneen)\b",
        r"\b(?:me|nos) (?:puede|pueden|podría|podrían|podrías|puedes) (?:llamar|telefonear)\b",
        r"\bhablar (?:con (?:alguien|una persona|un agente|un asesor|un humano|usted|ustedes)|por teléfono)\b",
        r"\bllamen\b",
    ),
    *t.cues(I.CALL_REQUEST, 0.7, r"\b(?:por teléfono|llamada|llamar)\b"),
    *t.cues(
        I.HELP,
        0.8,
        r"\bqué es (?:esto|eso|este mensaje)\b",
        r"\bquién (?:es|eres|son|habla|me escribe|me manda|me envía)\b",
        r"\bquién (?:me )?(?:está |esta )?(?:escrib|envi|mand|contact)\w*",
        r"\b(?:de parte de quién|qué empresa)\b",
        r"\bcuál es (?:el|mi) (?:saldo|deuda|monto|importe)\b",
        r"\bcuánto (?:debo|le debo|les debo|es|hay que pagar|tengo que pagar)\b",
        r"\bno entiendo\b",
        r"\b(?:qué factura|de qué se trata|más información)\b",
        r"\bcuál es el (?:monto|importe|saldo|total)\b",
        r"\b(?:copia|duplicado|detalle) de (?:la|mi|esta) factura\b",
        r"\bde qué es (?:este|esto|el) (?:mensaje|cobro)?\b",
        r"\b(?:monto|importe|cantidad) a pagar\b",
    ),
    *t.cues(I.HELP, 0.65, r"\bayuda\b", r"\binformación\b"),
    *t.cues(
        I.OPT_IN,
        0.85,
        r"\bvolver a (?:recibir|enviar\w*|mandar\w*)\b",
        r"\b(?:reactivar|reanudar) (?:los |las )?(?:mensajes|recordatorios|sms|avisos)\b",
        r"\b(?:dar(?:me)? de alta|volver a suscribirme)\b",
    ),
    *t.cues(
        I.OTHER,
        0.8,
        r"^(?:(?:ok|okey|vale|gracias|muchas gracias|entendido|perfecto|de acuerdo|bueno|listo|recibido|genial|saludos)"
        r"[\s.,!]*)+$",
    ),
)

LEXICON = Lexicon(
    language="es",
    markers=t.words(
        "el la los las que y es ya no por favor pago pague pagare le te lo mi mas gracias hola esta este "
        "semana manana hoy muy una con para del al quiero puedo voy hice todavia nunca usted ustedes buenas "
        "buenos dias tardes factura pagado mes fin yo soy estoy"
    ),
    specific=SPECIFIC,
    cues=CUES,
    day_first=True,
    weekdays=WEEKDAYS,
    months=MONTHS,
    month_numbers=MONTH_NUMBERS,
    past=t.patterns(
        r"\b(?:la semana|el mes|el año) pasad[oa]\b",
        rf"\b(?:el )?(?:{alternation(WEEKDAYS)}|día|mes|año) pasad[oa]\b",
        r"\b(?:ayer|antier|anteayer|anoche)\b",
        r"\bhace (?:\w+ )?(?:días?|semanas?|mes(?:es)?|rato|tiempo)\b",
        r"\b(?:por|en|de) la mañana\b",
    ),
    periods=(
        t.phrase(r"\bpasado mañana\b", lambda d: rules.after(d, 2, rules.Unit.DAY)),
        t.phrase(r"\b(?:hoy(?: mismo)?|esta (?:tarde|noche|mañana))\b", lambda d: d),
        t.phrase(r"\bmañana\b", lambda d: rules.after(d, 1, rules.Unit.DAY)),
        t.phrase(rf"\b(?:(?:a )?(?:finales|fin|final) de )?{NEXT_WEEK}\b", rules.next_week_friday),
        t.phrase(r"\b(?:esta semana|(?:a )?finales de (?:esta |la )?semana)\b", rules.this_friday),
        t.phrase(r"\b(?:el |este |para el |en el )?(?:fin de semana|finde)\b", rules.this_sunday),
        t.phrase(rf"\b(?:a )?(?:principios|inicios|comienzos) de(?:l)? {NEXT_MONTH}\b", rules.early_next_month),
        t.phrase(rf"\b(?:(?:a |para )?(?:fin|final|finales) del? )?{NEXT_MONTH}\b", rules.end_of_next_month),
        t.phrase(r"\b(?:a |para |al )?(?:fin|final|finales) de(?:l)? mes\b", rules.end_of_month),
        t.phrase(
            r"\b(?:a )?(?:principios|inicios|comienzos) de(?:l)? mes\b",
            lambda d: rules.next_day_of_month(d, rules.EARLY_DAY),
        ),
        t.phrase(r"\b(?:a )?mediados de(?:l)? mes\b", rules.mid_month),
        t.month_phrase(rf"\b(?:a )?(?:fin|final|finales) de {MONTH}\b", MONTH_NUMBERS, None),
        t.month_phrase(rf"\b(?:a )?mediados de {MONTH}\b", MONTH_NUMBERS, rules.MIDDLE_DAY),
        t.month_phrase(rf"\b(?:a )?(?:principios|inicios|comienzos) de {MONTH}\b", MONTH_NUMBERS, rules.EARLY_DAY),
        t.offset_phrase(
            rf"\b(?:en|dentro de)\s+(?P<count>{alternation(NUMBERS)}|\d{{1,2}})?\s*(?P<unit>{alternation(UNITS)})\b",
            NUMBERS,
            UNITS,
        ),
    ),
    day_of_month=t.patterns(
        r"\b(?:el|día|el día|para el|antes del|hasta el|del)\s+(?P<day>[0-3]?\d)\b(?!\s*(?:%|€|\$|euros?|dólares|pesos"
        r"|días|de \w+|/|\.\d|:))"
    ),
)
