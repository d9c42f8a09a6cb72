"""Row validation: canonical string columns in, typed accepted rows and reasoned quarantine out."""
