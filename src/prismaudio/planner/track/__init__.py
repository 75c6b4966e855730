"""The track pass: blobs linked frame to frame into tracks of moving objects."""
