"""The repair pass: tracks fixed after tracking (appearances, merged pairs, swaps, namesakes)."""
