"""Photos, avatars and videos: private originals become safe public renditions (media issue)."""
