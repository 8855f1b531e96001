"""Vietnamese voice announcements: number reading, clip library, composition, playback."""
