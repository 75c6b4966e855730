"""The identify pass: what each tracked object is (recognition head, ImageNet naming)."""
