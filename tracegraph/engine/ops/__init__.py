"""Operations: backup, offline backup checks and restore of the embedded database."""
