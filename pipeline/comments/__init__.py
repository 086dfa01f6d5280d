"""Comments stage: comment text -> masked text + findings + categories, an inbox, answered ledger.

- `privacy`: personal data found and masked (kinds and positions, never values): by shape
  (`shapes`), in number words (`spoken_numbers`), disguised contacts (`contacts`), schools and
  classes (`schools`), names and towns with Voikko (`names`, `morphology`);
- `moderation`: word-list flags (disclosure, self-harm, threats, insults, slurs, sexual, spam)
  with Finnish stems, negation and reported speech (`words`, `rules`);
- `triage`: one comment -> categories with matched words, reasons and Finnish explanations,
  questions and spam signs included;
- `inbox`: many comments -> sorted (personal response first, questions grouped, hate hidden);
- `ledger`: which comments already have a reply video (keyed hashes, one file per worker).
"""

from typing import TYPE_CHECKING

from pipeline.lazy import lazy_api

if TYPE_CHECKING:
    from pipeline.comments.inbox import (
        SECTION_TITLES,
        SECTIONS,
        Inbox,
        InboxItem,
        QuestionGroup,
        Section,
        build_inbox,
        hate_categories,
    )
    from pipeline.comments.ledger import (
        Ledger,
        LedgerEntry,
        comment_hash,
        ledger_folder,
        normalize_comment,
        read_ledger,
        record_answer,
        worker_name,
    )
    from pipeline.comments.moderation import (
        CATEGORY_NAMES,
        DISCLOSURE,
        PERSONAL_DATA,
        PERSONAL_RESPONSE,
        SELF_HARM_HINT,
        Flag,
        check_comment,
        describe_flags,
        load_lists,
        needs_personal_response,
        read_comments_file,
    )
    from pipeline.comments.privacy import (
        MaskOptions,
        clean_display_text,
        describe_findings,
        find_personal_data_in_cues,
        mask_cues,
        mask_options,
        mask_personal_data,
    )
    from pipeline.comments.triage import EXPLANATIONS, QUESTION, SPAM, CategoryHit, Triage, triage_comment

__all__ = [
    "CATEGORY_NAMES", "DISCLOSURE", "EXPLANATIONS", "PERSONAL_DATA", "PERSONAL_RESPONSE", "QUESTION",
    "SECTIONS", "SECTION_TITLES", "SELF_HARM_HINT", "SPAM", "CategoryHit", "Flag", "Inbox", "InboxItem", "Ledger",
    "LedgerEntry", "MaskOptions", "QuestionGroup", "Section", "Triage", "build_inbox", "check_comment", "clean_display_text",
    "comment_hash", "describe_findings", "describe_flags", "find_personal_data_in_cues", "hate_categories",
    "ledger_folder", "load_lists", "mask_cues", "mask_options", "mask_personal_data", "needs_personal_response",
    "normalize_comment", "read_comments_file", "read_ledger", "record_answer", "triage_comment", "worker_name",
]

__getattr__ = lazy_api(__name__)
