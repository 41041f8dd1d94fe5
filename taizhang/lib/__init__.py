"""Pure helpers with no database: ID numbers, periods and dates, encryption, pinyin initials."""
