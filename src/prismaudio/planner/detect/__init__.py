"""The detect pass: shots, camera motion, background model and the foreground blobs of each frame."""
