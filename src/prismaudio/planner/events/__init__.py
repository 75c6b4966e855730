"""The events pass: contacts, impacts and sustained activity of each identified track."""
