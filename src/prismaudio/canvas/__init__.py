"""SynthCanvas: a synthetic video-to-audio benchmark world with exact ground truth.

Build with `prismaudio canvas build OUTDIR` (or `prismaudio.canvas.build.build`); read with
`prismaudio.canvas.manifest.load_manifest`. Modules, one job each:

    classes        built-in sound classes (sprite + sound recipe + description + AudioSet labels)
    userbank       a user's own `<class>/*.wav` sound bank (+ classes.yaml)
    soundbank      render one sound of a class (soundfont / recordings), calibrated levels
    choreography   per-frame sprite motion and the frames of visual events
    backgrounds    solid, gradient and photo backgrounds (in-distribution and held-out)
    sprites        emoji / image sprites
    render_video   frames of a scene;  render_audio: stereo mix with ILD + ITD + distance gain
    degrade        aesthetic variants (noise, hum, clipping, bandlimit, reverb) and SNR
    reference      the reference four-module Plan of a scene
    sampler        which samples a build contains (splits, seeds, ood hold-outs)
    render_sample  one sample -> files + manifest line;  build: the resumable parallel builder
    manifest       the manifest schema and its typed loader;  report: README and class table
"""
