"""``reminders simulate``: the whole loop over simulated days, under faults, audited independently.

A world of generated customers with latent payment behaviours (:mod:`world`) is billed through a drop
folder (:mod:`feed`); the pipeline runs its daily steps on a simulated clock (:mod:`clock`,
:mod:`pipeline`, :mod:`days`) against the provider sandbox and the web app (:mod:`webhooks`), while the
faults of the SPEC strike (:mod:`faults`); customers answer what reaches them (:mod:`behaviour`,
:mod:`accounts`). The promises are then checked from the ledger and the provider's log alone
(:mod:`audit`, :mod:`audit_lost`), and the collection figures set against a fixed ladder and no
reminders in the same world (:mod:`baselines`, :mod:`collection`).
"""
