"""One school's notice (pure): recipients selected, composed, summarised and rendered."""
