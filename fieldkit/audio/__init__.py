"""Audio adapters: devices, capture, the crash-safe writer, the virtual microphone, reading, import
and playback. Nothing heavy is imported here: `import fieldkit.audio` stays instant, and sounddevice
(PortAudio) is only loaded by the functions that need a device."""
