"""Each top-level command's first paragraph of help, so `signoff --help` lists them unimported."""

from __future__ import annotations

# As each command's own help text begins (tests/test_cli_help.py keeps them equal): listing the
# commands from here spares `signoff --help` the imports of every command module.
COMMAND_SUMMARIES: dict[str, str] = {
    "register": "Register a new immutable version of MODEL from a fitted estimator.",
    "models": "List models with their latest version and stages.",
    "show": "Show MODEL (its versions) or MODEL:VERSION (everything recorded about it).",
    "demo": "Build a demo store from data shipped inside scikit-learn (no download).",
    "import": "Import models from other registries.",
    "keys": "Your signing keys (kept encrypted outside the store).",
    "init": "Create a store whose first admin is ADMIN, and the log's genesis event.",
    "users": "People who may act on the store, and their roles (admins only change them).",
    "audit": "The signed, hash-chained audit log.",
    "policy": "The promotion policy (stages, quorum, roles, gates, canary steps).",
    "request": "Request promotion of MODEL:VERSION to a stage; gates are evaluated at once.",
    "requests": "List promotion requests, newest first.",
    "show-request": "Show a request: evidence, gates, approvals so far, what is still needed, and its review.",
    "approve": "Approve a request: a signed decision over its evidence digest.",
    "reject": "Reject a request: a signed decision that closes it.",
    "withdraw": "Withdraw a request you opened.",
    "promote": "Execute a request whose quorum is reached and whose gates pass.",
    "canary": "Step or abort a running canary.",
    "rollback": "Break-glass: return a stage to an earlier version without approvals.",
    "history": "Every request, decision, promotion, canary step and rollback of MODEL.",
    "retire": "Retire MODEL:VERSION, or MODEL with all its versions (release managers, admins).",
    "card": "Render a version's model card, or edit and check the fields people write.",
    "validate": "Validate MODEL:VERSION on a dataset and record the run; exit 1 if a check fails.",
    "validations": "List the validation runs of MODEL or MODEL:VERSION, oldest first.",
    "package": "Build the signed, deterministic deployment package of MODEL:VERSION.",
    "verify-package": "Check a package: safe members, MANIFEST digests, attestation and carried approvals.",
    "report": "Write a PDF compliance report of MODEL[:VERSION], or of all models with --all.",
    "settings": "The reports' document control: owner, classification, distribution.",
    "monitor": "Production monitoring: prediction logs, outcomes, drift, decay, canaries, retraining jobs.",
    "retrain": "Refit a clone of a version (same hyperparameters, fixed seed) on new data, register it with lineage, validate it and open a promotion request to the first stage (authors, admins). Nothing is promoted: people review and approve the request.",
    "store": "The store itself: its backend, versions and log (`info`), moving it (`copy`).",
    "gc": "Remove artifact blobs no row refers to, and staging folders left by killed commands.",
    "model": "A model line's governance settings (its risk tier).",
}
