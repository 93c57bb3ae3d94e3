// The only place that reads the wall clock: cores get `now` from here, in whole seconds.

export interface Clock {
  nowSeconds(): number;
}

export const systemClock: Clock = {
  nowSeconds: () => Math.floor(Date.now() / 1000),
};
